// The token graph's cycles in flat typed arrays, for the per-block search: a pool is a small integer
// with its reserves as doubles, a cycle is a run of directed edges (pool × 2 + direction), and the
// cycles through a pool are a list of cycle ids. A block's first look — which cycles through the
// changed pools could pay at all — then reads arrays only: no map lookups, no bigint conversions,
// no allocation per cycle. The exact integer sizing (math/path.ts) runs only on what passes.
import { PoolReserves } from './pool-reserves.ts'
import type { Cycle } from './token-graph.ts'

/** The float first look of one cycle: the best input and profit of its folded virtual pool. */
export interface QuickLook {
  amountIn: number
  profit: number
}

export class CycleIndex {
  private poolIds = new Map<string, number>()
  private reserve0 = new Float64Array(1024)
  private reserve1 = new Float64Array(1024)
  private gamma = new Float64Array(1024)
  private pools = 0
  /** The same reserves as exact integers (the exact sizing's input). */
  readonly reserves = new PoolReserves()
  /** Pools set since the last {@link drainChanged}: what the search workers' copies lack. */
  private changed = new Set<number>()

  private edges = new Int32Array(4096)
  private edgeCount = 0
  private starts = new Int32Array(1024)
  private lengths = new Uint8Array(1024)
  private list: (Cycle | undefined)[] = []
  private byKey = new Map<string, number>()
  private byPool: number[][] = []
  /** Generation stamps: a cycle id is taken once per {@link through} call. */
  private stamps = new Uint32Array(1024)
  private generation = 0
  /** Live (not removed) cycles. */
  size = 0

  /** The pool's id, made on first sight. */
  poolId(address: string): number {
    let id = this.poolIds.get(address)
    if (id !== undefined) return id
    id = this.pools++
    if (id >= this.reserve0.length) {
      this.reserve0 = grow(this.reserve0, id + 1)
      this.reserve1 = grow(this.reserve1, id + 1)
      this.gamma = grow(this.gamma, id + 1)
    }
    this.poolIds.set(address, id)
    this.byPool[id] = []
    return id
  }

  /** Sets a pool's reserves and fee (num/den) as doubles. */
  setPool(id: number, reserve0: bigint, reserve1: bigint, feeNum: bigint, feeDen: bigint): void {
    this.reserve0[id] = Number(reserve0)
    this.reserve1[id] = Number(reserve1)
    this.gamma[id] = Number(feeNum) / Number(feeDen)
    this.reserves.set(id, reserve0, reserve1, feeNum, feeDen)
    this.changed.add(id)
  }

  setReserves(id: number, reserve0: bigint, reserve1: bigint): void {
    this.reserve0[id] = Number(reserve0)
    this.reserve1[id] = Number(reserve1)
    this.reserves.setReserves(id, reserve0, reserve1)
    this.changed.add(id)
  }

  /** The pools set since the last call (ids), and forgets them. */
  drainChanged(): number[] {
    const out = [...this.changed]
    this.changed.clear()
    return out
  }

  /** Every pool id made so far. */
  poolIdCount(): number {
    return this.pools
  }

  has(key: string): boolean {
    return this.byKey.has(key)
  }

  /**
   * Indexes a cycle: `edges[i]` is pool id × 2, plus 1 when hop i swaps token1 for token0.
   * Returns false for a cycle already indexed.
   */
  add(cycle: Cycle, edges: readonly number[]): boolean {
    if (this.byKey.has(cycle.key)) return false
    const id = this.list.length
    if (id >= this.starts.length) {
      this.starts = grow(this.starts, id + 1)
      this.lengths = grow(this.lengths, id + 1)
      this.stamps = grow(this.stamps, id + 1)
    }
    if (this.edgeCount + edges.length > this.edges.length) {
      this.edges = grow(this.edges, this.edgeCount + edges.length)
    }
    this.starts[id] = this.edgeCount
    this.lengths[id] = edges.length
    for (const e of edges) {
      this.edges[this.edgeCount++] = e
      this.byPool[e >> 1]!.push(id)
    }
    this.list.push(cycle)
    this.byKey.set(cycle.key, id)
    this.size++
    return true
  }

  /** Forgets every cycle through the pool (its id stays taken; its list is emptied). */
  removePool(address: string): void {
    const pool = this.poolIds.get(address)
    if (pool === undefined) return
    for (const id of this.byPool[pool]!) {
      const c = this.list[id]
      if (!c) continue
      this.list[id] = undefined
      this.byKey.delete(c.key)
      this.size--
    }
    this.byPool[pool] = []
    this.poolIds.delete(address)
  }

  cycle(id: number): Cycle {
    return this.list[id]!
  }

  hops(id: number): number {
    return this.lengths[id]!
  }

  /** Appends cycle `id`'s directed edges to `out` (see {@link add}). */
  pushEdges(id: number, out: number[]): void {
    const start = this.starts[id]!
    for (let i = start; i < start + this.lengths[id]!; i++) out.push(this.edges[i]!)
  }

  /** The ids of the live cycles through any of the pools, then those of `also` still live (each once). */
  through(pools: Iterable<string>, also: Iterable<number> = []): number[] {
    const gen = ++this.generation
    if (gen === 0xffffffff) {
      this.stamps.fill(0)
      this.generation = 1
    }
    const g = this.generation
    const out: number[] = []
    for (const a of pools) {
      const pool = this.poolIds.get(a)
      if (pool === undefined) continue
      for (const id of this.byPool[pool]!) {
        if (this.stamps[id] === g || this.list[id] === undefined) continue
        this.stamps[id] = g
        out.push(id)
      }
    }
    for (const id of also) {
      if (this.stamps[id] === g || this.list[id] === undefined) continue
      this.stamps[id] = g
      out.push(id)
    }
    return out
  }

  /** The id of the live cycle with this key. */
  idOf(key: string): number | undefined {
    return this.byKey.get(key)
  }

  /** The ids of every live cycle. */
  all(): number[] {
    const out: number[] = []
    for (let id = 0; id < this.list.length; id++) if (this.list[id] !== undefined) out.push(id)
    return out
  }

  /**
   * The cycle's best input and profit in floating point: the path folded into one virtual pool
   * (normalised per hop, so nothing overflows) and its closed-form optimum, as `quickSize` in
   * math/path.ts computes from hops. Writes into `out`; relative error ~1e-12.
   */
  quick(id: number, out: QuickLook): QuickLook {
    const start = this.starts[id]!
    const end = start + this.lengths[id]!
    const e0 = this.edges[start]!
    const p0 = e0 >> 1
    let ein = e0 & 1 ? this.reserve1[p0]! : this.reserve0[p0]!
    let eout = e0 & 1 ? this.reserve0[p0]! : this.reserve1[p0]!
    for (let i = start + 1; i < end; i++) {
      const e = this.edges[i]!
      const p = e >> 1
      const g = this.gamma[p]!
      const rIn = e & 1 ? this.reserve1[p]! : this.reserve0[p]!
      const rOut = e & 1 ? this.reserve0[p]! : this.reserve1[p]!
      const den = rIn + g * eout
      ein = (ein * rIn) / den
      eout = (g * eout * rOut) / den
    }
    const g = this.gamma[p0]!
    if (!(g * eout > ein)) {
      out.amountIn = 0
      out.profit = 0
      return out
    }
    const x = (Math.sqrt(g * ein * eout) - ein) / g
    out.amountIn = x
    out.profit = (g * x * eout) / (ein + g * x) - x
    return out
  }
}

function grow<T extends Float64Array | Int32Array | Uint8Array | Uint32Array>(a: T, need: number): T {
  let n = a.length * 2
  while (n < need) n *= 2
  const b = new (a.constructor as new (n: number) => T)(n)
  b.set(a)
  return b
}
