// The strategy's search: for the cycles through the pools a block changed, size each in closed form,
// price its gas, keep those that clear the minimum profit, best first, and pick a set that shares
// no pool (two trades through one pool would spoil each other's sizing).
import type { Cycle, TokenGraph } from '../graph/token-graph.ts'
import { sizeCycle } from '../math/path.ts'
import { topK } from '../math/select.ts'
import { type SizedBatch, type SizingBatch, sizeBatch } from './sizing-batch.ts'

/** A sized, priced cycle. Amounts are in the base token's smallest unit. */
export interface Opportunity {
  cycle: Cycle
  amountIn: bigint
  amountOut: bigint
  /** amountOut − amountIn. */
  grossProfit: bigint
  /** The expected gas cost, converted to the base token. */
  gasCost: bigint
  /** grossProfit − gasCost. */
  netProfit: bigint
  /** Each hop's expected output (the last is amountOut). */
  hopOuts: bigint[]
}

export interface GasModel {
  /** Gas a cycle of `hops` pools is expected to use (refined by simulation before execution). */
  gasUnits(hops: number): bigint
  /** Wei per gas the transaction will pay (next base fee + tip). */
  gasPrice: bigint
  /** Wei → base-token units. The default (base is the wrapped native token) is the identity. */
  weiToBase?: (wei: bigint) => bigint
}

export interface SearchOptions {
  gas: GasModel
  /** Net profit below this (in base units) is not an opportunity. Default 1n (strictly positive). */
  minProfit?: bigint
  /** Largest input per trade (risk limit). */
  maxIn?: bigint
  /**
   * Size exactly this many candidates: those the float look rates best, net of gas, plus any whose
   * float profit is within the look's error bound (1e-9 of the amounts, and 2 units) of the last
   * of them: those may rank either way exactly, so the exact best is always sized. The rest are
   * not opportunities this time: their cycle ids go to `deferred`, for the next search. Absent:
   * every candidate is sized (the reference the tests compare with).
   */
  maxSized?: number
  /** Filled with the cycle ids of the candidates beyond `maxSized` and of those `exclude`d. */
  deferred?: Set<number>
  /**
   * Candidates not to size now (the engine's quarantine): skipped before the ranking, so they take
   * none of the `maxSized` places, and deferred.
   */
  exclude?: (cycleId: number) => boolean
  /** Cycle ids to look at besides those through `changed` (untaken or deferred ones of the last search). */
  also?: Iterable<number>
}

/** A default gas estimate for Uniswap V2 cycles through ArbExecutor: ~40k + ~75k per hop. */
export function defaultGasUnits(hops: number): bigint {
  return 40_000n + 75_000n * BigInt(hops)
}

/** Sizes and prices one cycle at the graph's current reserves. */
export function evaluateCycle(graph: TokenGraph, cycle: Cycle, opts: SearchOptions): Opportunity {
  const s = sizeCycle(graph.hops(cycle), opts.maxIn)
  const wei = opts.gas.gasUnits(cycle.pools.length) * opts.gas.gasPrice
  const gasCost = opts.gas.weiToBase ? opts.gas.weiToBase(wei) : wei
  return {
    cycle,
    amountIn: s.amountIn,
    amountOut: s.amountOut,
    grossProfit: s.profit,
    gasCost,
    netProfit: s.profit - gasCost,
    hopOuts: s.hopOuts,
  }
}

/**
 * The opportunities among the cycles through `changed` (every cycle when `changed` is absent),
 * net profit ≥ minProfit, best first. On this thread; `SizingPool.find` spreads the exact sizing
 * over worker threads and gives the same answer.
 */
export function findOpportunities(
  graph: TokenGraph,
  opts: SearchOptions,
  changed?: Iterable<`0x${string}`>,
): Opportunity[] {
  const c = findCandidates(graph, opts, changed)
  const batch = sizingBatch(graph, c.ids, c.gasCost, opts)
  return opportunitiesOf(graph, c.ids, c.gasCost, [sizeBatch(graph.reserves, batch)], [c.ids.length])
}

/** The cycles worth sizing exactly, and the gas cost of a cycle by hop count. */
export interface Candidates {
  ids: number[]
  gasCost: bigint[]
}

/**
 * The cycles through `changed` (all when absent) whose floating-point look (typed arrays, no
 * allocation) might clear the bar of minimum profit plus gas: most cycles cannot pay their gas,
 * and the exact sizing decides the rest. The uncapped float optimum bounds any capped profit from
 * above; 1e-9 of the amounts (and two units) is slack for float error.
 */
export function findCandidates(graph: TokenGraph, opts: SearchOptions, changed?: Iterable<`0x${string}`>): Candidates {
  const minProfit = opts.minProfit ?? 1n
  const toBase = opts.gas.weiToBase ?? ((w: bigint) => w)
  const gasCost: bigint[] = []
  const bars: number[] = []
  for (let h = 0; h <= graph.maxHops; h++) {
    gasCost.push(toBase(opts.gas.gasUnits(h) * opts.gas.gasPrice))
    bars.push(Number(minProfit + gasCost[h]!))
  }
  const look = { amountIn: 0, profit: 0 }
  const ids: number[] = []
  /** The float look's net profit of each candidate (ids order), and its error bound. */
  const nets: number[] = []
  const slacks: number[] = []
  for (const id of changed ? graph.cycleIdsThrough(changed, opts.also) : graph.allCycleIds()) {
    const q = graph.quickLook(id, look)
    const bar = bars[graph.cycleLength(id)]!
    const slack = 1e-9 * (q.amountIn + Math.abs(q.profit)) + 2
    if (q.profit + slack >= bar) {
      if (opts.exclude?.(id)) {
        opts.deferred?.add(id)
        continue
      }
      ids.push(id)
      nets.push(q.profit - bar)
      slacks.push(slack)
    }
  }
  const max = opts.maxSized
  if (max === undefined || ids.length <= max) return { ids, gasCost }
  // the best `max` by the float look, kept in search order (ties in the exact sizing keep it),
  // and every other the float look cannot tell from the last of them (within both error bounds):
  // two cycles whose profits differ by less than the float error may rank either way exactly.
  const best = topK(Float64Array.from(nets), max)
  let last = best[0] as number
  for (const i of best) if ((nets[i] as number) < (nets[last] as number)) last = i
  const floor = (nets[last] as number) - (slacks[last] as number)
  const inBest = new Set(best)
  const kept: number[] = []
  for (let i = 0; i < ids.length; i++) {
    if (inBest.has(i) || (nets[i] as number) + (slacks[i] as number) >= floor) kept.push(i)
  }
  if (opts.deferred) {
    let next = 0
    for (let i = 0; i < ids.length; i++) {
      if (kept[next] === i) next++
      else opts.deferred.add(ids[i]!)
    }
  }
  return { ids: kept.map((i) => ids[i]!), gasCost }
}

/** The exact sizing batch of the cycles `ids`. */
export function sizingBatch(
  graph: TokenGraph,
  ids: readonly number[],
  gasCost: bigint[],
  opts: SearchOptions,
): SizingBatch {
  const edges: number[] = []
  for (const id of ids) {
    edges.push(graph.cycleLength(id))
    graph.pushCycleEdges(id, edges)
  }
  return {
    edges: Int32Array.from(edges),
    gasCost,
    minProfit: opts.minProfit ?? 1n,
    ...(opts.maxIn !== undefined ? { maxIn: opts.maxIn } : {}),
  }
}

/**
 * The opportunities of sized batches: `sized[j]` sized the `sizes[j]` cycles of `ids` that follow
 * the previous batches' (batch order is `ids` order). Best first; ties keep `ids` order.
 */
export function opportunitiesOf(
  graph: TokenGraph,
  ids: readonly number[],
  gasCost: readonly bigint[],
  sized: readonly SizedBatch[],
  sizes: readonly number[],
): Opportunity[] {
  const out: Opportunity[] = []
  let offset = 0
  sized.forEach((b, j) => {
    let v = 0
    for (const k of b.accepted) {
      const cycle = graph.cycleById(ids[offset + k]!)
      const hops = cycle.pools.length
      const amountIn = b.values[v]!
      const amountOut = b.values[v + 1]!
      const hopOuts = b.values.slice(v + 2, v + 2 + hops)
      v += 2 + hops
      const grossProfit = amountOut - amountIn
      const cost = gasCost[hops]!
      out.push({ cycle, amountIn, amountOut, grossProfit, gasCost: cost, netProfit: grossProfit - cost, hopOuts })
    }
    offset += sizes[j]!
  })
  out.sort((x, y) => (y.netProfit > x.netProfit ? 1 : y.netProfit < x.netProfit ? -1 : 0))
  return out
}

/** Greedily the best opportunities that share no pool (input sorted best first). */
export function selectDisjoint(sorted: readonly Opportunity[]): Opportunity[] {
  const used = new Set<string>()
  const out: Opportunity[] = []
  for (const o of sorted) {
    if (o.cycle.pools.some((p) => used.has(p))) continue
    for (const p of o.cycle.pools) used.add(p)
    out.push(o)
  }
  return out
}
