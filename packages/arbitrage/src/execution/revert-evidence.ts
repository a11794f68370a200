// What a reverted ArbExecutor call says about where it failed: the contract names the hop and pair
// whose swap reverted (`HopFailed`, with the pair's own reason), the token whose transfer it made
// failed (`TransferFailed`), the hop that paid less than its bound (`HopOutputTooLow`). The
// quarantine blames a token only on such evidence; the transfer-fee model learns from the amounts.
import { type Abi, BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from 'viem'
import type { Address } from '../graph/token-graph.ts'

export type RevertEvidence =
  /** The pair of hop `hop` refused its swap; `reason` is the pair's revert (`UniswapV2: TRANSFER_FAILED`, `UniswapV2: K`…). */
  | { kind: 'hop-failed'; hop: number; pair: Address; reason: string }
  /** A transfer of `token` the executor made (to a pair) failed. */
  | { kind: 'transfer-failed'; token: Address; to: Address }
  /** Hop `hop` would pay `amountOut`, less than `minOut` (the market moved, or a token took a fee). */
  | { kind: 'hop-output-too-low'; hop: number; amountOut: bigint; minOut: bigint }
  /** The cycle ended below its minimum profit. */
  | { kind: 'insufficient-profit'; before: bigint; after: bigint; minProfit: bigint }

/** A pair's swap reverting with this says the pair could not send its output token: that token refused. */
export const PAIR_TRANSFER_FAILED = 'UniswapV2: TRANSFER_FAILED'

/** The evidence in a viem error from ArbExecutor.execute (undefined when it is not one of its reverts). */
export function revertEvidence(err: unknown): RevertEvidence | undefined {
  if (!(err instanceof BaseError)) return undefined
  const r = err.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(r instanceof ContractFunctionRevertedError) || !r.data) return undefined
  const a = (r.data.args ?? []) as readonly unknown[]
  switch (r.data.errorName) {
    case 'HopFailed':
      return {
        kind: 'hop-failed',
        hop: Number(a[0]),
        pair: String(a[1]).toLowerCase() as Address,
        reason: innerReason(a[2] as Hex),
      }
    case 'TransferFailed':
      return {
        kind: 'transfer-failed',
        token: String(a[0]).toLowerCase() as Address,
        to: String(a[1]).toLowerCase() as Address,
      }
    case 'HopOutputTooLow':
      return { kind: 'hop-output-too-low', hop: Number(a[0]), amountOut: a[1] as bigint, minOut: a[2] as bigint }
    case 'InsufficientProfit':
      return { kind: 'insufficient-profit', before: a[0] as bigint, after: a[1] as bigint, minProfit: a[2] as bigint }
    default:
      return undefined
  }
}

/** The readable form of a pair's revert data: an `Error(string)`'s message, a panic, or the hex. */
export function innerReason(data: Hex | undefined): string {
  if (!data || data === '0x') return 'revert'
  try {
    const d = decodeErrorResult({ abi: [] as Abi, data })
    if (d.errorName === 'Error') return String(d.args?.[0])
    if (d.errorName === 'Panic') return `panic ${String(d.args?.[0])}`
    return d.errorName
  } catch {
    return data.length > 74 ? `${data.slice(0, 74)}…` : data
  }
}

/** A short text of the evidence for logs and the store. */
export function describeEvidence(e: RevertEvidence): string {
  switch (e.kind) {
    case 'hop-failed':
      return `hop ${e.hop} (pair ${e.pair}) reverted: ${e.reason}`
    case 'transfer-failed':
      return `transfer of ${e.token} to ${e.to} failed`
    case 'hop-output-too-low':
      return `hop ${e.hop} would pay ${e.amountOut}, below ${e.minOut}`
    case 'insufficient-profit':
      return `profit ${e.after - e.before} below ${e.minProfit}`
  }
}
