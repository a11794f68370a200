// `cairn arb deploy`: ArbExecutor deployed from its committed artifact (@cairn/contracts) by the
// signing account, which owns it (only the owner may execute or withdraw), optionally funded with
// the base token for `--funding capital|auto`.
import { arbExecutor } from '@cairn/contracts'
import { CairnError } from '@cairn/utils'
import {
  type Abi,
  BaseError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseAbi,
  webSocket,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { ArbErrorCode } from '../errors.ts'
import { type KeySource, loadSigner } from '../execution/signer.ts'
import type { Address } from '../graph/token-graph.ts'

export interface DeployOptions {
  rpc: string
  key: KeySource
  /** Then send `amount` of `token` to the new contract. */
  fund?: { token: Address; amount: bigint }
}

export interface Deployed {
  address: Address
  owner: Address
  tx: `0x${string}`
  block: bigint
  /** The funding transfer, when asked. */
  funded?: `0x${string}`
}

export async function deployExecutor(opts: DeployOptions): Promise<Deployed> {
  const signer = await loadSigner(opts.key)
  try {
    return await deployWith(opts, signer.account)
  } catch (err) {
    // the signing account's own refusal (a remote signer's policy, an HSM gone) says more than viem's wrapper
    const inner = err instanceof BaseError ? err.walk((e) => e instanceof CairnError) : null
    throw inner instanceof CairnError ? inner : err
  } finally {
    signer.close()
  }
}

async function deployWith(opts: DeployOptions, account: LocalAccount): Promise<Deployed> {
  const transport = /^wss?:\/\//i.test(opts.rpc) ? webSocket(opts.rpc) : http(opts.rpc, { timeout: 60_000 })
  const id = await createPublicClient({ transport }).getChainId()
  const chain = defineChain({
    id,
    name: `chain-${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [opts.rpc] } },
  })
  const pub = createPublicClient({ chain, transport })
  const wallet = createWalletClient({ account, chain, transport })
  const tx = await wallet.deployContract({ abi: arbExecutor.abi as Abi, bytecode: arbExecutor.bytecode })
  const r = await pub.waitForTransactionReceipt({ hash: tx })
  if (r.status !== 'success' || !r.contractAddress)
    throw new CairnError(ArbErrorCode.CONFIG, `deploying ArbExecutor failed (tx ${tx})`, {
      fault: 'caller',
      hint: 'the signing account needs gas on this chain',
    })
  const out: Deployed = {
    address: r.contractAddress.toLowerCase() as Address,
    owner: account.address.toLowerCase() as Address,
    tx,
    block: r.blockNumber,
  }
  if (opts.fund) {
    const funded = await wallet.writeContract({
      address: opts.fund.token,
      abi: parseAbi(['function transfer(address to, uint256 amount) returns (bool)']),
      functionName: 'transfer',
      args: [out.address, opts.fund.amount],
    })
    const f = await pub.waitForTransactionReceipt({ hash: funded })
    if (f.status !== 'success')
      throw new CairnError(ArbErrorCode.CONFIG, `funding ArbExecutor ${out.address} failed (tx ${funded})`, {
        fault: 'caller',
        hint: `the signing account must hold ${opts.fund.amount} of ${opts.fund.token}`,
      })
    out.funded = funded
  }
  return out
}
