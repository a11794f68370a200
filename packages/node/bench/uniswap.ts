import { deriveAccounts } from '@cairn/crypto'
import { createPublicClient, createWalletClient, encodeFunctionData, type Hex, http, maxUint256 } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { deployUniswap, mined, ROUTER } from '../test/estimate/uniswap.ts'
import { DEV_MNEMONIC } from './transfers.ts'

/** A Uniswap V2 deployment with liquidity, and the `getAmountsOut` call to read from it. */
export interface UniswapRead {
  router: Hex
  /** The calldata of `getAmountsOut(amountIn, [tokenA, tokenB])`: a different `amountIn` per request. */
  callData(amountIn: bigint): Hex
}

/**
 * Deploys Uniswap V2 (WETH9, factory, Router02, two tokens, their pair: the published bytecode,
 * test/estimate/uniswap.ts) from dev account 1 and adds 10^24 of each token as liquidity, so
 * `getAmountsOut` reads the pair's reserves through the router (a library call and a STATICCALL).
 */
export async function deployUniswapRead(url: string): Promise<UniswapRead> {
  const key = deriveAccounts(DEV_MNEMONIC, 2)[1]?.privateKey
  if (!key) throw new Error('no dev account')
  const account = privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}` as Hex)
  const transport = http(url)
  const pub = createPublicClient({ transport })
  const wallet = createWalletClient({ account, transport })
  const u = await deployUniswap(pub, wallet)
  const liquidity = 10n ** 24n
  const hash = await wallet.writeContract({
    address: u.router,
    abi: ROUTER.abi,
    functionName: 'addLiquidity',
    args: [u.tokenA, u.tokenB, liquidity, liquidity, 0n, 0n, account.address, maxUint256],
    account,
    chain: null,
  } as Parameters<typeof wallet.writeContract>[0])
  await mined(pub, hash)
  return {
    router: u.router,
    callData: (amountIn) =>
      encodeFunctionData({ abi: ROUTER.abi, functionName: 'getAmountsOut', args: [amountIn, [u.tokenA, u.tokenB]] }),
  }
}
