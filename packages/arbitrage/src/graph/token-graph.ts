// The token graph: tokens are vertices, pools are edges (both ways). It keeps every simple cycle of
// at most `maxHops` pools that starts and ends in the base token, indexed by pool, so a block's
// search looks only at the cycles through the pools that changed. Cycles are found incrementally:
// adding a pool finds exactly the cycles that contain it (all of whose other pools exist already).
import type { Hop } from '../math/path.ts'
import type { PoolFee } from '../math/v2.ts'
import { CycleIndex, type QuickLook } from './cycle-index.ts'
import type { PoolReserves, PoolUpdate } from './pool-reserves.ts'

export type Address = `0x${string}`

/** A constant-product pool as the graph knows it. Addresses are lower-case. */
export interface PoolInfo {
  address: Address
  token0: Address
  token1: Address
  fee: PoolFee
  reserve0: bigint
  reserve1: bigint
}

/**
 * A directed cycle through the base token: `pools[i]` swaps `tokens[i]` into `tokens[i + 1]`;
 * `tokens[0] === tokens[pools.length] === base`.
 */
export interface Cycle {
  /** The pools in order, joined by '>' (a cycle and its reverse have different keys). */
  key: string
  pools: Address[]
  tokens: Address[]
}

export interface TokenGraphOptions {
  base: Address
  /** Longest cycle searched, in pools (2–4 is the useful range; gas grows per hop). */
  maxHops: number
  /** Stop indexing new cycles past this many (memory bound); 0 or absent: no limit. */
  maxCycles?: number
}

interface Path {
  tokens: Address[] // from the start token to base, both included
  pools: Address[]
}

export class TokenGraph {
  readonly base: Address
  readonly maxHops: number
  private readonly maxCycles: number
  private readonly pools = new Map<Address, PoolInfo>()
  private readonly byToken = new Map<Address, Set<Address>>()
  /** The cycles, in typed arrays with the pools' reserves as doubles (the search's first look). */
  private readonly index = new CycleIndex()
  /** Hops from each token to base (BFS); absent = unreachable. Kept exact on add, rebuilt on remove. */
  private dist = new Map<Address, number>()
  private distDirty = false
  /** Cycles not indexed because of maxCycles. */
  dropped = 0

  constructor(opts: TokenGraphOptions) {
    this.base = lower(opts.base)
    this.maxHops = opts.maxHops
    this.maxCycles = opts.maxCycles ?? 0
    this.dist.set(this.base, 0)
  }

  get poolCount(): number {
    return this.pools.size
  }

  get cycleCount(): number {
    return this.index.size
  }

  pool(address: Address): PoolInfo | undefined {
    return this.pools.get(lower(address))
  }

  allPools(): IterableIterator<PoolInfo> {
    return this.pools.values()
  }

  /** Adds a pool (no-op if known) and indexes the cycles it closes; returns how many. */
  addPool(info: PoolInfo): number {
    const p: PoolInfo = {
      ...info,
      address: lower(info.address),
      token0: lower(info.token0),
      token1: lower(info.token1),
    }
    if (this.pools.has(p.address) || p.token0 === p.token1) return 0
    this.pools.set(p.address, p)
    this.index.setPool(this.index.poolId(p.address), p.reserve0, p.reserve1, p.fee.num, p.fee.den)
    for (const t of [p.token0, p.token1]) addTo(this.byToken, t, p.address)
    this.relax(p.token0, p.token1)
    let found = 0
    for (const [u, v] of [
      [p.token0, p.token1],
      [p.token1, p.token0],
    ] as const) {
      for (const c of this.cyclesThroughEdge(p.address, u, v)) {
        if (this.maxCycles > 0 && this.index.size >= this.maxCycles) {
          this.dropped++
          continue
        }
        if (this.index.has(c.key)) continue
        const edges = c.pools.map(
          (q, i) => this.index.poolId(q) * 2 + (c.tokens[i] === this.pools.get(q)!.token0 ? 0 : 1),
        )
        this.index.add(c, edges)
        found++
      }
    }
    return found
  }

  /** Removes a pool and every cycle through it (a reorg undid its creation). */
  removePool(address: Address): void {
    const a = lower(address)
    const p = this.pools.get(a)
    if (!p) return
    this.index.removePool(a)
    this.pools.delete(a)
    for (const t of [p.token0, p.token1]) this.byToken.get(t)?.delete(a)
    this.distDirty = true
  }

  /** Sets a pool's reserves (from a Sync log or getReserves). False for an unknown pool. */
  setReserves(address: Address, reserve0: bigint, reserve1: bigint): boolean {
    const a = lower(address)
    const p = this.pools.get(a)
    if (!p) return false
    p.reserve0 = reserve0
    p.reserve1 = reserve1
    this.index.setReserves(this.index.poolId(a), reserve0, reserve1)
    return true
  }

  /** The cycles through any of `changed` (each once). */
  cyclesThrough(changed: Iterable<Address>): Cycle[] {
    return this.cycleIdsThrough(changed).map((id) => this.index.cycle(id))
  }

  /** Every indexed cycle. */
  *allCycles(): IterableIterator<Cycle> {
    for (const id of this.index.all()) yield this.index.cycle(id)
  }

  // -- the search's view: cycles by id ----------------------------------------------------------

  /**
   * The ids of the cycles through any of `changed`, then those of `also` still indexed (each once),
   * for {@link quickLook} and {@link cycleById}.
   */
  cycleIdsThrough(changed: Iterable<Address>, also?: Iterable<number>): number[] {
    const lowered: string[] = []
    for (const a of changed) lowered.push(lower(a))
    return this.index.through(lowered, also)
  }

  /** The id of the indexed cycle with this key (ids are never reused: a removed cycle's id stays dead). */
  cycleIdOf(key: string): number | undefined {
    return this.index.idOf(key)
  }

  /** The ids of every indexed cycle. */
  allCycleIds(): number[] {
    return this.index.all()
  }

  cycleById(id: number): Cycle {
    return this.index.cycle(id)
  }

  /** The number of pools in cycle `id`. */
  cycleLength(id: number): number {
    return this.index.hops(id)
  }

  /** The float first look of cycle `id` at the current reserves (see `quickSize` in math/path.ts). */
  quickLook(id: number, out: QuickLook = { amountIn: 0, profit: 0 }): QuickLook {
    return this.index.quick(id, out)
  }

  /** Appends cycle `id`'s directed edges (pool id × 2, plus 1 for token1 → token0) to `out`. */
  pushCycleEdges(id: number, out: number[]): void {
    this.index.pushEdges(id, out)
  }

  /** Every pool's exact reserves and fee by pool id (what the exact sizing reads). */
  get reserves(): PoolReserves {
    return this.index.reserves
  }

  /** The pools whose state was set since the last call, for a copy of {@link reserves}. */
  drainPoolUpdates(): PoolUpdate[] {
    return this.index.drainChanged().map((id) => this.index.reserves.update(id))
  }

  /** Every pool's state, for a new copy of {@link reserves}. */
  allPoolUpdates(): PoolUpdate[] {
    const out: PoolUpdate[] = []
    for (let id = 0; id < this.index.poolIdCount(); id++) out.push(this.index.reserves.update(id))
    return out
  }

  /** The hops of a cycle at the pools' current reserves. */
  hops(cycle: Cycle): Hop[] {
    return cycle.pools.map((a, i) => {
      const p = this.pools.get(a)!
      const zeroForOne = cycle.tokens[i] === p.token0
      return zeroForOne
        ? { reserveIn: p.reserve0, reserveOut: p.reserve1, fee: p.fee }
        : { reserveIn: p.reserve1, reserveOut: p.reserve0, fee: p.fee }
    })
  }

  // -- cycle search ------------------------------------------------------------------------------

  /** Cycles base → … → u →(pool)→ v → … → base with at most maxHops pools. */
  private cyclesThroughEdge(pool: Address, u: Address, v: Address): Cycle[] {
    if (this.distDirty) this.rebuildDist()
    const H = this.maxHops
    const du = this.dist.get(u)
    const dv = this.dist.get(v)
    if (du === undefined || dv === undefined || du + dv + 1 > H) return []
    const fromU = this.pathsToBase(u, H - 1 - dv, pool)
    const fromV = this.pathsToBase(v, H - 1 - du, pool)
    const out: Cycle[] = []
    for (const a of fromU) {
      for (const b of fromV) {
        const hops = a.pools.length + b.pools.length + 1
        if (hops > H || hops < 2) continue
        if (!disjoint(a, b)) continue
        // base → … → u is path a reversed
        const tokens = [...a.tokens].reverse().concat(b.tokens)
        const pools = [...a.pools].reverse()
        pools.push(pool, ...b.pools)
        out.push({ key: pools.join('>'), pools, tokens })
      }
    }
    return out
  }

  /** Simple paths from `start` to base of at most `maxLen` pools, not using `avoid`. */
  private pathsToBase(start: Address, maxLen: number, avoid: Address): Path[] {
    const out: Path[] = []
    const tokens: Address[] = [start]
    const pools: Address[] = []
    const seen = new Set<Address>([start])
    const walk = (t: Address, left: number) => {
      if (t === this.base) {
        out.push({ tokens: [...tokens], pools: [...pools] })
        return
      }
      if (left === 0) return
      for (const q of this.byToken.get(t) ?? []) {
        if (q === avoid) continue
        const p = this.pools.get(q)!
        const next = p.token0 === t ? p.token1 : p.token0
        if (seen.has(next)) continue
        const d = this.dist.get(next)
        if (d === undefined || d > left - 1) continue
        seen.add(next)
        tokens.push(next)
        pools.push(q)
        walk(next, left - 1)
        pools.pop()
        tokens.pop()
        seen.delete(next)
      }
    }
    if (maxLen >= 0) walk(start, maxLen)
    return out
  }

  /** An edge u–v was added: distances can only shrink; propagate from whichever end improved. */
  private relax(u: Address, v: Address): void {
    if (this.distDirty) return
    const queue: Address[] = []
    const improve = (t: Address, d: number) => {
      const cur = this.dist.get(t)
      if (cur === undefined || d < cur) {
        this.dist.set(t, d)
        queue.push(t)
      }
    }
    const du = this.dist.get(u)
    const dv = this.dist.get(v)
    if (du !== undefined) improve(v, du + 1)
    if (dv !== undefined) improve(u, dv + 1)
    while (queue.length > 0) {
      const t = queue.shift()!
      const d = this.dist.get(t)!
      for (const q of this.byToken.get(t) ?? []) {
        const p = this.pools.get(q)!
        improve(p.token0 === t ? p.token1 : p.token0, d + 1)
      }
    }
  }

  private rebuildDist(): void {
    this.dist = new Map([[this.base, 0]])
    const queue: Address[] = [this.base]
    while (queue.length > 0) {
      const t = queue.shift()!
      const d = this.dist.get(t)!
      for (const q of this.byToken.get(t) ?? []) {
        const p = this.pools.get(q)!
        const n = p.token0 === t ? p.token1 : p.token0
        if (!this.dist.has(n)) {
          this.dist.set(n, d + 1)
          queue.push(n)
        }
      }
    }
    this.distDirty = false
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k)
  if (s) s.add(v)
  else m.set(k, new Set([v]))
}

function lower(a: Address): Address {
  return a.toLowerCase() as Address
}

/** No token (other than base, at both ends) and no pool in common. */
function disjoint(a: Path, b: Path): boolean {
  const base = a.tokens[a.tokens.length - 1]
  const ts = new Set(a.tokens)
  for (const t of b.tokens) if (t !== base && ts.has(t)) return false
  const ps = new Set(a.pools)
  for (const p of b.pools) if (ps.has(p)) return false
  return true
}
