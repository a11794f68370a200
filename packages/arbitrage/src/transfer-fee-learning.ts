// How the engine learns tokens' transfer fees from what simulations paid (the fee-blind model
// says what the pools should pay; a shortfall at a hop is that token's fee), and folds the known
// fees back into the sizes of the opportunities a search found.

import type { RiskLimits } from './engine-options.ts'
import type { ExecutorClient, Simulation } from './execution/executor.ts'
import type { TokenGraph } from './graph/token-graph.ts'
import { hopsOn, resized } from './strategy/batch-plan.ts'
import type { Opportunity } from './strategy/search.ts'
import type { TransferFees } from './strategy/transfer-fees.ts'

export interface FeeLearningModules {
  graph: TokenGraph
  executor: ExecutorClient
  fees: TransferFees
}

/** Feeds what the simulation paid to the transfer-fee model; true when a fee was learned. */
export function learnFee(m: FeeLearningModules, o: Opportunity, sim: Simulation): boolean {
  const blind = hopsOn(m.graph, o.cycle, null, null)
  const last = o.cycle.pools.length - 1
  if (sim.ok) {
    // a flash loan pays exactly what was borrowed: it only says the output reached the model's
    const paid = (sim.flash ?? m.executor.funding !== 'capital') ? o.amountOut : o.amountIn + sim.profit
    return m.fees.observe(o.cycle, blind, o.amountIn, last, paid) !== null
  }
  const e = sim.evidence
  if (e?.kind === 'hop-output-too-low') return m.fees.observe(o.cycle, blind, o.amountIn, e.hop, e.amountOut) !== null
  // the last pair paid at least the loan (flash), or the whole output came back (capital)
  if (e?.kind === 'insufficient-profit') {
    const flash = sim.flash ?? m.executor.funding !== 'capital'
    const paid = flash ? o.amountOut : o.amountIn + e.after - e.before
    return m.fees.observe(o.cycle, blind, o.amountIn, last, paid) !== null
  }
  return false
}

/**
 * Learns the transfer fees of the tokens on `found` not known yet, all at once: each cycle
 * through an unknown token simulated as sized (its outcome, even a revert, says what the last
 * pair paid). Until a token's fee is known, no trade through it is sent after another of the
 * same block without its own simulation (see planBatch's canSequence).
 */
export async function probeFees(m: FeeLearningModules, found: Opportunity[]): Promise<void> {
  const probes = found.filter((o) => !m.fees.allKnown(o.cycle))
  if (probes.length === 0) return
  const results = await Promise.all(
    probes.slice(0, 64).map((o) =>
      Promise.resolve()
        .then(() => m.executor.probe(m.graph, o))
        .catch(() => null),
    ),
  )
  results.forEach((sim, i) => {
    if (sim) learnFee(m, probes[i]!, sim)
  })
}

/** Opportunities through tokens with a known transfer fee, sized again with it (best first). */
export function withFees(
  m: Pick<FeeLearningModules, 'graph' | 'fees'>,
  found: Opportunity[],
  limits: RiskLimits,
): Opportunity[] {
  if (!found.some((o) => m.fees.charges(o.cycle))) return found
  const out: Opportunity[] = []
  for (const o of found) {
    if (!m.fees.charges(o.cycle)) {
      out.push(o)
      continue
    }
    const r = resized(o, hopsOn(m.graph, o.cycle, null, m.fees), limits.maxIn)
    if (r && r.netProfit >= limits.minProfit) out.push(r)
  }
  return out.sort((x, y) => (y.netProfit > x.netProfit ? 1 : y.netProfit < x.netProfit ? -1 : 0))
}
