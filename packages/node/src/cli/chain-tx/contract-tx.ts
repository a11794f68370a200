/**
 * Sends a transaction to a system contract for a CLI command: simulates it first, so a call the
 * contract refuses is reported with the contract's custom error (its name names the rule, its
 * arguments the values) and nothing is sent; then sends it and waits for its receipt.
 */
import { CairnError } from '@cairn/utils'
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { NodeErrorCode } from '../../errors.ts'

export interface ChainClient {
  public: PublicClient
  chainId: number
  url: string
}

export async function connect(url: string): Promise<ChainClient> {
  const probe = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 10_000 }) })
  let chainId: number
  try {
    chainId = await probe.getChainId()
  } catch (err) {
    throw new CairnError(
      NodeErrorCode.TX_REFUSED,
      `cannot reach a node at ${url}: ${(err as Error).message.split('\n')[0]}`,
      {
        fault: 'caller',
        hint: 'pass --rpc with the JSON-RPC URL of a running node (default http://127.0.0.1:8545)',
      },
    )
  }
  const chain = defineChain({
    id: chainId,
    name: 'cairn',
    nativeCurrency: { name: 'coin', symbol: 'COIN', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  })
  return {
    public: createPublicClient({ chain, transport: http(url, { timeout: 30_000 }) }) as PublicClient,
    chainId,
    url,
  }
}

/** Why the contract refused, from a viem error: `Name(arg, …)` or the revert reason. */
export function refusal(err: unknown): string {
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName
      if (name !== undefined) {
        const args = (revert.data?.args ?? []).map((a) => (typeof a === 'bigint' ? a.toString() : String(a)))
        return `${name}(${args.join(', ')})`
      }
      return revert.reason ?? revert.shortMessage
    }
    return err.shortMessage
  }
  return (err as Error).message
}

export interface SendResult {
  hash: Hex
  blockNumber: bigint
  gasUsed: bigint
}

/** Simulates then sends `functionName(args)` with `value`, and waits for the receipt. */
export async function sendContractTx(
  client: ChainClient,
  account: LocalAccount,
  call: { address: Hex; abi: Abi; functionName: string; args?: readonly unknown[]; value?: bigint },
): Promise<SendResult> {
  const wallet = createWalletClient({
    account,
    chain: client.public.chain,
    transport: http(client.url, { timeout: 30_000 }),
  })
  let request: unknown
  try {
    ;({ request } = await client.public.simulateContract({ ...call, account } as never))
  } catch (err) {
    throw new CairnError(NodeErrorCode.TX_REFUSED, `${call.functionName} refused: ${refusal(err)}`, {
      fault: 'caller',
      hint: 'nothing was sent; docs/consensus/staking.md and governance.md list each rule and its error',
    })
  }
  const hash = await wallet.writeContract(request as never)
  const receipt = await client.public.waitForTransactionReceipt({ hash, timeout: 60_000 })
  if (receipt.status !== 'success') {
    throw new CairnError(
      NodeErrorCode.TX_REFUSED,
      `${call.functionName} reverted in block ${receipt.blockNumber} (${hash})`,
      {
        fault: 'caller',
        hint: 'the state changed between the simulation and the block; run the command again',
      },
    )
  }
  return { hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed }
}
