/**
 * Sends a transaction to a system contract for a CLI command: simulates it first, so a call the
 * contract refuses is reported with the contract's custom error (its name names the rule, its
 * arguments the values) and nothing is sent; then sends it and waits for its receipt. Whatever
 * fails on the way (the simulation, the node refusing the transaction or its gas estimate, no
 * receipt in time) is one line of `error: …` (a CairnError), never a viem stack.
 *
 * What a command reports (a proposal's id, an amount paid out, the height a key takes effect) comes
 * from the events of its own receipt (`SendResult.events`), never from state read afterwards: other
 * transactions in the same block, or after it, would change that state.
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
  parseEventLogs,
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
    public: createPublicClient({ chain, transport: http(url, { timeout: 30_000 }), ...POLLING }) as PublicClient,
    chainId,
    url,
  }
}

/**
 * How often viem polls for a receipt, and how long it keeps a block number. Its defaults (4 s each,
 * for a chain whose block time it does not know) made every transaction command wait ~4 s for a
 * receipt that was there within a block, then ~4 s more before exiting (the poll's last timer).
 */
const POLLING = { pollingInterval: 250, cacheTime: 0 } as const

/** A node's or viem's message, on one line and bounded (it may quote what the node was sent). */
function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

/** Why the contract refused, from a viem error: `Name(arg, …)` or the revert reason. */
export function refusal(err: unknown): string {
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName
      if (name !== undefined) {
        const args = (revert.data?.args ?? []).map((a) => (typeof a === 'bigint' ? a.toString() : String(a)))
        return oneLine(`${name}(${args.join(', ')})`)
      }
      return oneLine(revert.reason ?? revert.shortMessage)
    }
    return oneLine(err.shortMessage)
  }
  return oneLine((err as Error).message)
}

/** What the node said when it refused a transaction (viem's summary, and the node's own words). */
function nodeRefusal(err: unknown): string {
  if (err instanceof BaseError) {
    const details = err.details && !err.shortMessage.includes(err.details) ? `: ${err.details}` : ''
    return oneLine(`${err.shortMessage}${details}`)
  }
  return oneLine((err as Error).message)
}

/** One event the called contract logged in the transaction, decoded by its ABI. */
export interface TxEvent {
  eventName: string
  args: Record<string, unknown>
}

export interface SendResult {
  hash: Hex
  blockNumber: bigint
  gasUsed: bigint
  /** The called contract's events in this transaction's receipt, in log order. */
  events: TxEvent[]
}

/**
 * The arguments of the one `eventName` event a transaction logged (its own receipt's).
 * @throws CairnError `TX_REFUSED` when the receipt holds none (a contract unlike this build's ABI)
 */
export function eventOf(r: SendResult, eventName: string): Record<string, unknown> {
  const found = r.events.find((e) => e.eventName === eventName)
  if (found === undefined) {
    throw new CairnError(NodeErrorCode.TX_REFUSED, `transaction ${r.hash} logged no ${eventName} event`, {
      fault: 'internal',
      hint: 'the contract at the system address does not match this cairn release: run the release the network runs',
    })
  }
  return found.args
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
    ...POLLING,
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
  let hash: Hex
  try {
    hash = await wallet.writeContract(request as never)
  } catch (err) {
    // The simulation passed but the node would not take it: its gas estimate, the fee, the
    // account's balance for gas, its nonce.
    throw new CairnError(NodeErrorCode.TX_REFUSED, `${call.functionName} not sent: ${nodeRefusal(err)}`, {
      fault: 'caller',
      hint: `the node at ${client.url} refused the transaction; check the account's balance for gas and that no other transaction from it is pending`,
    })
  }
  let receipt: Awaited<ReturnType<PublicClient['waitForTransactionReceipt']>>
  try {
    receipt = await client.public.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS })
  } catch (err) {
    throw new CairnError(
      NodeErrorCode.TX_REFUSED,
      `${call.functionName} sent as ${hash}, but no receipt came: ${nodeRefusal(err)}`,
      {
        fault: 'transient',
        hint: `it may still be included: look it up later (cast receipt ${hash}) before sending it again`,
      },
    )
  }
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
  const own = receipt.logs.filter((l) => l.address.toLowerCase() === call.address.toLowerCase())
  const events = parseEventLogs({ abi: call.abi, logs: own }).map((e) => ({
    eventName: e.eventName as string,
    args: e.args as Record<string, unknown>,
  }))
  return { hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, events }
}

/** How long a command waits for its transaction's receipt. */
const RECEIPT_TIMEOUT_MS = 60_000
