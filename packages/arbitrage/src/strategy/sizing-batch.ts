// The exact sizing of a block's candidate cycles as one batch: plain data in (the cycles' directed
// edges, the gas cost per hop count, the limits) and out (which candidates clear the minimum, with
// their sizes), so the same function runs on the main thread and in the search workers.
import type { PoolReserves } from '../graph/pool-reserves.ts'
import { sizeCycle } from '../math/path.ts'

export interface SizingBatch {
  /** Candidates back to back: a hop count, then that many directed edges (pool id × 2 + direction). */
  edges: Int32Array
  /** The expected gas cost in base units of a cycle of `i` hops, at index i. */
  gasCost: bigint[]
  /** Net profit below this is not an opportunity. */
  minProfit: bigint
  maxIn?: bigint
}

export interface SizedBatch {
  /** The candidates (their position in the batch) that clear the minimum, in batch order. */
  accepted: number[]
  /** For each accepted candidate: amountIn, amountOut, then each hop's output. */
  values: bigint[]
}

/** Sizes every candidate of the batch exactly (`sizeCycle`) against `reserves`. */
export function sizeBatch(reserves: PoolReserves, batch: SizingBatch): SizedBatch {
  const accepted: number[] = []
  const values: bigint[] = []
  const { edges, gasCost, minProfit, maxIn } = batch
  let k = 0
  for (let i = 0; i < edges.length; k++) {
    const hops = edges[i]!
    const s = sizeCycle(reserves.hops(edges, i + 1, hops), maxIn)
    i += hops + 1
    if (s.amountIn > 0n && s.profit - gasCost[hops]! >= minProfit) {
      accepted.push(k)
      values.push(s.amountIn, s.amountOut, ...s.hopOuts)
    }
  }
  return { accepted, values }
}
