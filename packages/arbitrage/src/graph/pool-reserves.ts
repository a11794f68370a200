// Every pool's reserves and fee as exact integers, by the cycle index's pool id: the state the exact
// sizing reads. The main thread keeps one; each search worker keeps a copy, sent the pools that
// changed before every batch (sizing-pool.ts).
import type { Hop } from '../math/path.ts'

/** One pool's state on the wire: id, reserve0, reserve1, fee numerator, fee denominator. */
export type PoolUpdate = [number, bigint, bigint, bigint, bigint]

export class PoolReserves {
  private readonly reserve0: bigint[] = []
  private readonly reserve1: bigint[] = []
  private readonly feeNum: bigint[] = []
  private readonly feeDen: bigint[] = []

  set(id: number, reserve0: bigint, reserve1: bigint, feeNum: bigint, feeDen: bigint): void {
    this.reserve0[id] = reserve0
    this.reserve1[id] = reserve1
    this.feeNum[id] = feeNum
    this.feeDen[id] = feeDen
  }

  setReserves(id: number, reserve0: bigint, reserve1: bigint): void {
    this.reserve0[id] = reserve0
    this.reserve1[id] = reserve1
  }

  /** The pool's state to send to a copy. */
  update(id: number): PoolUpdate {
    return [id, this.reserve0[id]!, this.reserve1[id]!, this.feeNum[id]!, this.feeDen[id]!]
  }

  apply(updates: readonly PoolUpdate[]): void {
    for (const [id, r0, r1, num, den] of updates) this.set(id, r0, r1, num, den)
  }

  /**
   * The hops of a cycle written as directed edges (pool id × 2, plus 1 when the hop swaps token1
   * for token0): `edges[start … start + length)`.
   */
  hops(edges: Int32Array, start: number, length: number): Hop[] {
    const out: Hop[] = []
    for (let i = start; i < start + length; i++) {
      const e = edges[i]!
      const p = e >> 1
      const fee = { num: this.feeNum[p]!, den: this.feeDen[p]! }
      out.push(
        e & 1
          ? { reserveIn: this.reserve1[p]!, reserveOut: this.reserve0[p]!, fee }
          : { reserveIn: this.reserve0[p]!, reserveOut: this.reserve1[p]!, fee },
      )
    }
    return out
  }
}
