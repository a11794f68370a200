// The strategy's search: for the cycles through the pools a block changed, size each in closed form,
// price its gas, keep those that clear the minimum profit, best first, and pick a set that shares
// no pool (two trades through one pool would spoil each other's sizing).
import type { Cycle, TokenGraph } from '../graph/token-graph.ts'
import { quickSize, sizeCycle } from '../math/path.ts'

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
 * net profit ≥ minProfit, best first.
 */
export function findOpportunities(
  graph: TokenGraph,
  opts: SearchOptions,
  changed?: Iterable<`0x${string}`>,
): Opportunity[] {
  const minProfit = opts.minProfit ?? 1n
  const cycles = changed ? graph.cyclesThrough(changed) : [...graph.allCycles()]
  const out: Opportunity[] = []
  const toBase = opts.gas.weiToBase ?? ((w: bigint) => w)
  for (const c of cycles) {
    // a floating-point look first: most cycles cannot pay their gas; the exact sizing decides the rest
    const q = quickSize(graph.hops(c))
    const bar = Number(minProfit + toBase(opts.gas.gasUnits(c.pools.length) * opts.gas.gasPrice))
    // the uncapped float optimum bounds any capped profit from above; 1e-9 of the amounts (and two
    // units) is slack for float error — the exact sizing is what counts
    if (q.profit + 1e-9 * (q.amountIn + Math.abs(q.profit)) + 2 < bar) continue
    const o = evaluateCycle(graph, c, opts)
    if (o.amountIn > 0n && o.netProfit >= minProfit) out.push(o)
  }
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
