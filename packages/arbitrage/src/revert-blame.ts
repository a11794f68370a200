import { PAIR_TRANSFER_FAILED, type RevertEvidence } from './execution/revert-evidence.ts'
import type { Address, Cycle } from './graph/token-graph.ts'

/**
 * The token a revert points at, or null: a pair whose swap reverted with `UniswapV2:
 * TRANSFER_FAILED` could not send its output token (the hop's token out); a transfer the executor
 * made that failed names its token. Never the base token.
 */
export function blamedToken(cycle: Cycle, e: RevertEvidence | undefined): Address | null {
  let t: Address | undefined
  if (e?.kind === 'hop-failed' && e.reason.includes(PAIR_TRANSFER_FAILED)) t = cycle.tokens[e.hop + 1]
  else if (e?.kind === 'transfer-failed') t = e.token
  return t !== undefined && t !== cycle.tokens[0] ? t : null
}

/** A failure that says the node does not know the method (eth_simulateV1 on an older node). */
export function isMethodMissing(reason: string): boolean {
  return /method not found|does not exist|not supported|unsupported/i.test(reason)
}
