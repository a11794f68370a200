// A block's trades, planned as the greedy optimum would take them: the best opportunity first,
// then each next best sized again on the reserves the trades before it leave (a pending view of
// the block after them), up to the per-block limit. Opportunities through pools no earlier trade
// touched keep their sizes (disjoint: they cannot spoil each other); those through a touched pool
// are re-sized on the view, and dropped when they no longer clear the minimum. The engine sends
// the plan in order, with consecutive nonces, in one block.
import type { Address, Cycle, TokenGraph } from '../graph/token-graph.ts'
import { type Hop, sizeCycle } from '../math/path.ts'
import type { Opportunity } from './search.ts'
import type { TransferFees } from './transfer-fees.ts'

export interface PlanOptions {
  /** Trades at most (`maxTradesPerBlock`). */
  max: number
  /** Least net profit (after the expected gas) of a planned trade. */
  minProfit: bigint
  maxIn?: bigint
  /** Known transfer fees, folded into the sizing (none when null). */
  fees?: TransferFees | null
  /**
   * Whether a cycle may be re-sized on the view and sent after the trades before it (default: any).
   * The engine sends such a trade without simulating it (a node's pending state may not hold the
   * earlier trades), so it allows only cycles whose tokens' transfer fees are all known.
   */
  canSequence?: (cycle: Cycle) => boolean
  /**
   * Cycles through a pool a trade moved that were not among `found` (they did not pay before it)
   * but may now: sized on the view too, as the greedy optimum would. Absent: only `found`.
   */
  moreThrough?: (pools: readonly Address[]) => Iterable<Cycle>
  /** Expected gas cost (base units) of a cycle of n hops (for the cycles `moreThrough` adds). */
  gasCost?: (hops: number) => bigint
  /** At most this many extra cycles sized per planned trade. Default 512. */
  maxMorePerTrade?: number
}

export interface Plan {
  /** In the order to send. */
  trades: Opportunity[]
  /** The trades sized on the view after earlier trades of the plan (their pools overlap one). */
  sequenced: Set<Opportunity>
}

/** Reserves as the plan's trades leave them: pool → [reserve0, reserve1]. */
export type ReserveView = Map<Address, [bigint, bigint]>

/** The hops of `cycle` on `view` (the graph's reserves where the view has none), fees folded in. */
export function hopsOn(graph: TokenGraph, cycle: Cycle, view: ReserveView | null, fees: TransferFees | null): Hop[] {
  const hops = cycle.pools.map((a, i): Hop => {
    const p = graph.pool(a)!
    const [r0, r1] = view?.get(a) ?? [p.reserve0, p.reserve1]
    return cycle.tokens[i] === p.token0
      ? { reserveIn: r0, reserveOut: r1, fee: p.fee }
      : { reserveIn: r1, reserveOut: r0, fee: p.fee }
  })
  return fees ? fees.apply(cycle, hops) : hops
}

/** `o`'s cycle sized again on `hops` (its gas cost kept); null when it no longer pays anything. */
export function resized(o: Opportunity, hops: readonly Hop[], maxIn?: bigint): Opportunity | null {
  const s = sizeCycle(hops, maxIn)
  if (s.amountIn <= 0n || s.profit <= 0n) return null
  return {
    cycle: o.cycle,
    amountIn: s.amountIn,
    amountOut: s.amountOut,
    grossProfit: s.profit,
    gasCost: o.gasCost,
    netProfit: s.profit - o.gasCost,
    hopOuts: s.hopOuts,
  }
}

/** The reserves after `o` on `view`: each pair gains what reached it and pays its output. */
export function applyTrade(graph: TokenGraph, view: ReserveView, o: Opportunity, fees: TransferFees | null): void {
  let arriving = o.amountIn
  o.cycle.pools.forEach((a, i) => {
    const p = graph.pool(a)!
    const [r0, r1] = view.get(a) ?? [p.reserve0, p.reserve1]
    const out = o.hopOuts[i] ?? 0n
    view.set(a, o.cycle.tokens[i] === p.token0 ? [r0 + arriving, r1 - out] : [r0 - out, r1 + arriving])
    const next = o.cycle.tokens[i + 1]!
    const bps = fees && i + 1 < o.cycle.pools.length ? BigInt(fees.bps(next)) : 0n
    arriving = out - (out * bps) / 10_000n
  })
}

/** The plan for `found` (best first), see the file's head. */
export function planBatch(graph: TokenGraph, found: readonly Opportunity[], opts: PlanOptions): Plan {
  const fees = opts.fees ?? null
  const view: ReserveView = new Map()
  const trades: Opportunity[] = []
  const sequenced = new Set<Opportunity>()
  let left = found.filter((o) => o.netProfit >= opts.minProfit)
  while (trades.length < opts.max && left.length > 0) {
    let best = 0
    for (let i = 1; i < left.length; i++) if (left[i]!.netProfit > left[best]!.netProfit) best = i
    const o = left[best]!
    left.splice(best, 1)
    trades.push(o)
    applyTrade(graph, view, o, fees)
    const touched = new Set(o.cycle.pools)
    const next: Opportunity[] = []
    const known = new Set(left.map((c) => c.cycle.key))
    for (const t of trades) known.add(t.cycle.key)
    if (opts.moreThrough && opts.gasCost) {
      let budget = opts.maxMorePerTrade ?? 512
      for (const cycle of opts.moreThrough(o.cycle.pools)) {
        if (budget-- <= 0) break
        if (known.has(cycle.key) || (opts.canSequence && !opts.canSequence(cycle))) continue
        known.add(cycle.key)
        const gasCost = opts.gasCost(cycle.pools.length)
        const blank: Opportunity = {
          cycle,
          amountIn: 0n,
          amountOut: 0n,
          grossProfit: 0n,
          gasCost,
          netProfit: -gasCost,
          hopOuts: [],
        }
        const r = resized(blank, hopsOn(graph, cycle, view, fees), opts.maxIn)
        if (r && r.netProfit >= opts.minProfit) {
          sequenced.add(r)
          next.push(r)
        }
      }
    }
    for (const c of left) {
      if (!c.cycle.pools.some((p) => touched.has(p))) {
        next.push(c)
        continue
      }
      if (opts.canSequence && !opts.canSequence(c.cycle)) continue
      const r = resized(c, hopsOn(graph, c.cycle, view, fees), opts.maxIn)
      if (r && r.netProfit >= opts.minProfit) {
        sequenced.add(r)
        next.push(r)
      }
    }
    left = next
  }
  return { trades, sequenced }
}
