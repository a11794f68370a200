// A lost race: a trade (or its simulation after our unmined trades) refused by the contract's own
// checks because the pools no longer pay what it was sized on — another transaction moved them
// first. The market did that, not a fault of ours: the breaker does not count it (engine.ts).
import type { RevertEvidence } from '../execution/revert-evidence.ts'

/** A pair's own refusals when the reserves moved under a swap sized on other ones. */
const PAIR_MOVED = /^UniswapV2: (K|INSUFFICIENT_OUTPUT_AMOUNT|INSUFFICIENT_INPUT_AMOUNT|INSUFFICIENT_LIQUIDITY)$/

/** Whether a revert (its name and ArbExecutor's evidence) says the pools moved before the trade. */
export function isLostRace(revert: string | undefined, evidence: RevertEvidence | undefined): boolean {
  if (evidence?.kind === 'insufficient-profit' || evidence?.kind === 'hop-output-too-low') return true
  if (evidence?.kind === 'hop-failed') return PAIR_MOVED.test(evidence.reason)
  return (
    revert === 'InsufficientProfit' || revert === 'HopOutputTooLow' || (revert !== undefined && PAIR_MOVED.test(revert))
  )
}
