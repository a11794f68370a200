// Uniswap V2 deployed from its published bytecode (npm @uniswap/v2-core and @uniswap/v2-periphery,
// `build/*.json`: the artifacts mainnet runs, whose pair init-code hash the router has built in),
// for tests that estimate and send what real users send: swaps, liquidity, permits.
import { createRequire } from 'node:module'
import { type Abi, type Address, type Hex, maxUint256, type PublicClient, type WalletClient } from 'viem'

const require = createRequire(import.meta.url)

interface Artifact {
  abi: Abi
  bytecode: string
}

function artifact(pkg: 'v2-core' | 'v2-periphery', name: string): { abi: Abi; bytecode: Hex } {
  const a = require(`@uniswap/${pkg}/build/${name}.json`) as Artifact
  return { abi: a.abi, bytecode: (a.bytecode.startsWith('0x') ? a.bytecode : `0x${a.bytecode}`) as Hex }
}

export const WETH9 = artifact('v2-periphery', 'WETH9')
export const FACTORY = artifact('v2-core', 'UniswapV2Factory')
export const ROUTER = artifact('v2-periphery', 'UniswapV2Router02')
export const PAIR = artifact('v2-core', 'UniswapV2Pair')
/** v2-core's test ERC20: UniswapV2ERC20 (with EIP-2612 `permit`), all of `_totalSupply` minted to the deployer. */
export const TOKEN = artifact('v2-core', 'ERC20')

export interface Uniswap {
  weth: Address
  factory: Address
  router: Address
  tokenA: Address
  tokenB: Address
  pair: Address
}

/** Waits for a transaction and throws unless it succeeded. */
export async function mined(client: PublicClient, hash: Hex) {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted (gas used ${receipt.gasUsed})`)
  return receipt
}

/** Deploys an artifact from the wallet's account and waits for it; its address. */
export async function deploy(
  pub: PublicClient,
  wallet: WalletClient,
  a: { abi: Abi; bytecode: Hex },
  args: unknown[] = [],
): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: a.abi,
    bytecode: a.bytecode,
    args,
    account: wallet.account ?? null,
    chain: null,
  } as Parameters<WalletClient['deployContract']>[0])
  const receipt = await mined(pub, hash)
  if (!receipt.contractAddress) throw new Error('no contract address')
  return receipt.contractAddress
}

/**
 * Deploys WETH9, the factory, Router02 and two tokens (10^30 units each to the wallet's account),
 * creates their pair and approves the router to spend both tokens and the pair's LP tokens.
 */
export async function deployUniswap(pub: PublicClient, wallet: WalletClient): Promise<Uniswap> {
  const account = wallet.account
  if (!account) throw new Error('wallet without account')
  const weth = await deploy(pub, wallet, WETH9)
  const factory = await deploy(pub, wallet, FACTORY, [account.address])
  const router = await deploy(pub, wallet, ROUTER, [factory, weth])
  const supply = 10n ** 30n
  const tokenA = await deploy(pub, wallet, TOKEN, [supply])
  const tokenB = await deploy(pub, wallet, TOKEN, [supply])
  const send = (address: Address, abi: Abi, functionName: string, args: unknown[]) =>
    wallet.writeContract({ address, abi, functionName, args, account, chain: null } as Parameters<
      WalletClient['writeContract']
    >[0])
  await mined(pub, await send(factory, FACTORY.abi, 'createPair', [tokenA, tokenB]))
  const pair = (await pub.readContract({
    address: factory,
    abi: FACTORY.abi,
    functionName: 'getPair',
    args: [tokenA, tokenB],
  })) as Address
  for (const t of [tokenA, tokenB, pair]) {
    await mined(pub, await send(t, TOKEN.abi, 'approve', [router, maxUint256]))
  }
  return { weth, factory, router, tokenA, tokenB, pair }
}
