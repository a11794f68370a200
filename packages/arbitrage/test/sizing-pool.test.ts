// The search's exact sizing over worker threads against the same search on one thread: after any
// sequence of reserve moves, pool additions and removals, SizingPool.find gives exactly
// findOpportunities' answer (same cycles, sizes, profits and order), also when a worker dies.
import type { Worker } from 'node:worker_threads'
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { searchFlags, suggestedSearchThreads } from '../src/cli/index.ts'
import { type Address, type PoolInfo, TokenGraph } from '../src/graph/token-graph.ts'
import { feeFromBps, UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { createArbMetrics } from '../src/metrics.ts'
import { defaultGasUnits, findOpportunities } from '../src/strategy/search.ts'
import { SizingPool } from '../src/strategy/sizing-pool.ts'

const TOKENS = 8
const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
const poolAddr = (i: number) => `0x${(0xb000 + i).toString(16).padStart(40, '0')}` as Address

function pool(i: number, a: number, b: number, r0: bigint, r1: bigint, bps?: number): PoolInfo {
  const fee = bps === undefined ? UNISWAP_V2_FEE : feeFromBps(bps)
  return { address: poolAddr(i), token0: tok(a), token1: tok(b), fee, reserve0: r0, reserve1: r1 }
}

const reserve = fc.bigInt({ min: 10n ** 15n, max: 10n ** 24n })
const step = fc.record({
  moves: fc.array(fc.tuple(fc.nat(), reserve, reserve), { maxLength: 12 }),
  add: fc.option(fc.tuple(fc.nat(TOKENS - 1), fc.nat(TOKENS - 1), reserve, reserve, fc.nat(60)), { nil: undefined }),
  remove: fc.option(fc.nat(), { nil: undefined }),
  gasPrice: fc.bigInt({ min: 0n, max: 10n ** 8n }),
  minProfit: fc.option(fc.bigInt({ min: 1n, max: 10n ** 15n }), { nil: undefined }),
  maxIn: fc.option(fc.bigInt({ min: 1n, max: 10n ** 22n }), { nil: undefined }),
  maxSized: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  everything: fc.boolean(),
})

const pools: SizingPool[] = []
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
})

function world(threads: number) {
  const graph = new TokenGraph({ base: tok(0), maxHops: 4 })
  const registry = new Registry()
  const metrics = createArbMetrics(registry)
  // minParallel 0: every batch is split, however small
  const sizing = new SizingPool({ threads, minParallel: 0 }, { graph, logger: silentLogger, metrics })
  pools.push(sizing)
  // a dense start: every token against the base, and a ring between the others, slightly mispriced
  let n = 0
  for (let t = 1; t < TOKENS; t++) graph.addPool(pool(n++, 0, t, 10n ** 21n, 10n ** 21n + BigInt(t) * 10n ** 19n))
  for (let t = 1; t < TOKENS; t++) graph.addPool(pool(n++, t, (t % (TOKENS - 1)) + 1, 10n ** 21n, 10n ** 21n))
  return { graph, sizing, metrics, registry, next: () => n++ }
}

describe('SizingPool: the exact sizing on worker threads', () => {
  it('finds exactly what findOpportunities finds, after any moves, additions and removals (differential)', async () => {
    const w = world(2)
    let compared = 0
    let nonEmpty = 0
    await fc.assert(
      fc.asyncProperty(step, async (s) => {
        const all = [...w.graph.allPools()]
        const changed: Address[] = []
        for (const [i, r0, r1] of s.moves) {
          const p = all[i % all.length]!
          w.graph.setReserves(p.address, r0, r1)
          changed.push(p.address)
        }
        if (s.add) {
          const [a, b, r0, r1, bps] = s.add
          const p = pool(w.next(), a, b === a ? (a + 1) % TOKENS : b, r0, r1, bps)
          w.graph.addPool(p)
          changed.push(p.address)
        }
        if (s.remove !== undefined && all.length > 8) w.graph.removePool(all[s.remove % all.length]!.address)
        const opts = {
          gas: { gasUnits: defaultGasUnits, gasPrice: s.gasPrice },
          ...(s.minProfit !== undefined ? { minProfit: s.minProfit } : {}),
          ...(s.maxIn !== undefined ? { maxIn: s.maxIn } : {}),
          ...(s.maxSized !== undefined ? { maxSized: s.maxSized } : {}),
        }
        const deferred = [new Set<number>(), new Set<number>()] as const
        const want = findOpportunities(w.graph, { ...opts, deferred: deferred[0] }, s.everything ? undefined : changed)
        const got = await w.sizing.find({ ...opts, deferred: deferred[1] }, s.everything ? undefined : changed)
        expect(got).toEqual(want)
        expect(deferred[1]).toEqual(deferred[0])
        compared++
        if (want.length > 0) nonEmpty++
      }),
      { numRuns: 150 },
    )
    expect(compared).toBe(150)
    // the runs compared real answers, not empty lists
    expect(nonEmpty).toBeGreaterThan(30)
  })

  it('a worker that dies mid-search loses nothing: its share is sized here, a new worker replaces it', async () => {
    const w = world(1)
    const opts = { gas: { gasUnits: defaultGasUnits, gasPrice: 0n } }
    const want = findOpportunities(w.graph, opts)
    expect(want.length).toBeGreaterThan(0)
    expect(await w.sizing.find(opts)).toEqual(want)
    // (the pool's threads are private: reached here to kill one as a crash would)
    const threads = (w.sizing as unknown as { threads: { worker: Worker }[] }).threads
    const first = threads[0]!.worker
    // terminated before the batch is posted: the worker never answers it; its exit rejects the share
    const dying = first.terminate()
    const during = w.sizing.find(opts)
    await dying
    expect(await during).toEqual(want)
    expect(await w.registry.getSingleMetricAsString('cairn_arb_search_worker_failures_total')).toMatch(/ 1$/m)
    // the next search starts a new worker with every pool's state and uses it
    const moved = [...w.graph.allPools()][0]!
    w.graph.setReserves(moved.address, moved.reserve0, (moved.reserve1 * 11n) / 10n)
    expect(await w.sizing.find(opts)).toEqual(findOpportunities(w.graph, opts))
    const replaced = (w.sizing as unknown as { threads: { worker: Worker; failed: boolean }[] }).threads[0]!
    expect(replaced.worker).not.toBe(first)
    expect(replaced.failed).toBe(false)
  })

  it('--search-threads and --max-hops are validated at the edge, naming the flag and the range', () => {
    expect(searchFlags({ maxHops: '4', searchThreads: '0' })).toEqual({ maxHops: 4, searchThreads: 0 })
    expect(suggestedSearchThreads()).toBeGreaterThanOrEqual(0)
    expect(() => searchFlags({ maxHops: '5', searchThreads: '1' })).toThrowError(
      expect.objectContaining({
        code: 'ARB_CONFIG',
        message: expect.stringContaining('--max-hops must be a whole number from 2 to 4'),
      }),
    )
    expect(() => searchFlags({ maxHops: '3', searchThreads: 'many' })).toThrow(
      '--search-threads must be a whole number from 0 to 64, got many',
    )
  })

  it('refuses a thread count that is not a whole number ≥ 1', () => {
    const graph = new TokenGraph({ base: tok(0), maxHops: 3 })
    expect(() => new SizingPool({ threads: 0 }, { graph, logger: silentLogger })).toThrowError(
      expect.objectContaining({ code: 'ARB_CONFIG', fault: 'caller' }),
    )
  })
})
