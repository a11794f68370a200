// Our trades sent and not settled, in the order sent (nonce order): a later trade through one of
// their pools is sized on the reserves they leave and simulated after them in one block
// (eth_simulateV1: a bundle), never on the plan's word alone.
import type { Hex, PublicClient } from 'viem'
import type { Decision, InFlight } from './decision.ts'
import type { RiskLimits } from './engine-options.ts'
import type { ExecutorClient, Simulation } from './execution/executor.ts'
import { describeEvidence } from './execution/revert-evidence.ts'
import type { TokenGraph } from './graph/token-graph.ts'
import type { ArbMetrics } from './metrics.ts'
import { pairAbi } from './pools/abi.ts'
import { isMethodMissing } from './revert-blame.ts'
import { isLostRace } from './risk/lost-race.ts'
import { applyTrade, hopsOn, type ReserveView, resized } from './strategy/batch-plan.ts'
import type { Opportunity } from './strategy/search.ts'
import type { TransferFees } from './strategy/transfer-fees.ts'

export interface InFlightModules {
  graph: TokenGraph
  executor: ExecutorClient
  public: PublicClient
  fees: TransferFees
  metrics: ArbMetrics | null
}

/** The trades in flight (see the file's header). */
export class InFlightTrades {
  readonly #trades: InFlight[] = []

  constructor(private readonly modules: InFlightModules) {}

  /** A trade was sent. */
  sent(trade: InFlight): void {
    this.#trades.push(trade)
  }

  /** A sent trade settled (mined, or given up): later trades are no longer simulated after it. */
  landed(hash: Hex): void {
    const i = this.#trades.findIndex((f) => f.hash === hash)
    if (i >= 0) this.#trades.splice(i, 1)
  }

  /** Whether an unsettled trade of ours goes through one of `o`'s pools. */
  conflicts(o: Opportunity): boolean {
    if (this.#trades.length === 0) return false
    const pools = new Set(o.cycle.pools)
    return this.#trades.some((f) => f.o.cycle.pools.some((p) => pools.has(p)))
  }

  /**
   * `o` sized again on the reserves our unmined trades leave (the chain's at one block, with those
   * trades applied in the order sent) and simulated after them in one block (eth_simulateV1).
   * Not sent when it no longer pays, or when the node cannot simulate a bundle (a later block
   * searches it again, once those trades landed). Null when every conflicting trade is mined by
   * now: `o` is then simulated on its own.
   */
  async proveAfter(
    o: Opportunity,
    /** The limits in force (read live, after the reads). */
    liveLimits: () => RiskLimits,
  ): Promise<Decision | { o: Opportunity; sim: Simulation } | null> {
    const { graph, executor, public: pub, fees } = this.modules
    const m = this.modules.metrics
    const stale = (detail: string): Decision => {
      m?.opportunities.inc({ stage: 'skipped' })
      return { kind: 'skipped', opportunity: o, why: 'stale', detail }
    }
    // The trades of now: a settle of an earlier one may land (splice the list) during the reads
    // below, and the mined flags must stay with the trades they were read for — read against the
    // live list, the flag of a trade that landed meanwhile passed to the next one, so an unmined
    // trade through `o`'s pools was taken for mined and `o` simulated without it (a failed
    // simulation, a quarantined cycle: market.e2e on a loaded machine).
    const trades = [...this.#trades]
    const at = await pub.getBlockNumber({ cacheTime: 0 })
    // mined by `at`: already in its state; the rest run before `o` in the simulated block
    const mined = await Promise.all(
      trades.map((f) =>
        pub.getTransactionReceipt({ hash: f.hash }).then(
          (r) => r.blockNumber <= at,
          () => false,
        ),
      ),
    )
    const before = trades.filter((_, i) => !mined[i])
    const pools = new Set(o.cycle.pools)
    if (!before.some((f) => f.o.cycle.pools.some((p) => pools.has(p)))) return null
    const reads = await Promise.all(
      o.cycle.pools.map((address) =>
        pub.readContract({ address, abi: pairAbi, functionName: 'getReserves', blockNumber: at }),
      ),
    )
    const view: ReserveView = new Map()
    o.cycle.pools.forEach((a, i) => {
      view.set(a, [reads[i]![0], reads[i]![1]])
    })
    for (const f of before) applyTrade(graph, view, f.o, fees)
    const limits = liveLimits()
    const fresh = resized(o, hopsOn(graph, o.cycle, view, fees), limits.maxIn)
    if (fresh === null || fresh.netProfit < limits.minProfit)
      return stale(`no longer pays after our ${before.length} unmined trade(s)`)
    const sim = await executor.simulateAfter(
      graph,
      fresh,
      1n,
      before.map((f) => f.data),
      at,
    )
    if (!sim.ok && sim.revert === undefined && isMethodMissing(sim.reason))
      return stale('the node cannot simulate a bundle (eth_simulateV1): sent once the earlier trades land')
    if (!sim.ok && isLostRace(sim.revert, sim.evidence))
      return stale(`simulated after our unmined trades: ${sim.evidence ? describeEvidence(sim.evidence) : sim.revert}`)
    return { o: fresh, sim }
  }
}
