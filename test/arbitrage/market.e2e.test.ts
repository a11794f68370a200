// The engine in a market: two factories from Uniswap V2's published bytecode, 20 tokens, 60 pools
// priced consistently; another account pushes random swaps that misprice pools; after each round the
// test computes, independently of the engine (its own enumeration of cycles, its own V2 formula and
// a numeric search over the input), the best profit one trade could take; the engine, one trade per
// round, must capture ≥ 99% of it over the run (the issue asks 95%), and no trade may lose (after gas).
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArbEngine } from '../../packages/arbitrage/src/engine.ts'
import { ExecutorClient } from '../../packages/arbitrage/src/execution/executor.ts'
import { type Address, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import { PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import {
  addLiquidity,
  createPair,
  deployExecutor,
  deployFactory,
  deployToken,
  onEachChain,
  reserves,
  swap,
  type TestChain,
  token0,
  transfer,
} from './chain-harness.ts'

const E18 = 10n ** 18n
const TOKENS = 20
const POOLS = 60
const HOPS = 3

interface MarketPool {
  pair: Address
  t0: Address
  t1: Address
}

/** Independent of src/: the V2 output, the cycles by brute force, the best input by search. */
const out = (x: bigint, rIn: bigint, rOut: bigint) => (x * 997n * rOut) / (rIn * 1000n + x * 997n)

function cyclesOf(pools: MarketPool[], base: Address, maxHops: number): { pools: number[]; tokens: Address[] }[] {
  const found: { pools: number[]; tokens: Address[] }[] = []
  const walk = (t: Address, tokens: Address[], used: number[]) => {
    if (used.length > 0 && t === base) {
      if (used.length >= 2) found.push({ pools: [...used], tokens: [...tokens] })
      return
    }
    if (used.length === maxHops) return
    pools.forEach((p, i) => {
      if (used.includes(i)) return
      const next = p.t0 === t ? p.t1 : p.t1 === t ? p.t0 : undefined
      if (!next || (next !== base && tokens.includes(next))) return
      walk(next, [...tokens, next], [...used, i])
    })
  }
  walk(base, [base], [])
  return found
}

function bestProfit(
  cycles: { pools: number[]; tokens: Address[] }[],
  pools: MarketPool[],
  res: [bigint, bigint][],
): bigint {
  let best = 0n
  for (const c of cycles) {
    const run = (x: bigint) => {
      let a = x
      c.pools.forEach((pi, k) => {
        const p = pools[pi]!
        const [r0, r1] = res[pi]!
        a = c.tokens[k] === p.t0 ? out(a, r0, r1) : out(a, r1, r0)
      })
      return a - x
    }
    // quick reject: a tiny trade must profit for any trade to
    const first = pools[c.pools[0]!]!
    const rIn = c.tokens[0] === first.t0 ? res[c.pools[0]!]![0] : res[c.pools[0]!]![1]
    if (run(rIn / 100_000n) <= 0n) continue
    let lo = 0n
    let hi = rIn
    while (hi - lo > 2n) {
      const m1 = lo + (hi - lo) / 3n
      const m2 = hi - (hi - lo) / 3n
      if (run(m1) < run(m2)) lo = m1
      else hi = m2
    }
    for (let x = lo; x <= hi; x++) if (run(x) > best) best = run(x)
  }
  return best
}

function marketSuite(name: string, start: () => Promise<TestChain>) {
  describe(`the engine in a random market on ${name}`, () => {
    let c: TestChain
    const pools: MarketPool[] = []
    let tokens: Address[]
    let factories: Address[]
    let executor: Address
    const plan = fc.sample(
      fc.record({
        prices: fc.array(fc.integer({ min: 50, max: 200 }), { minLength: TOKENS, maxLength: TOKENS }),
        pairs: fc.array(
          fc.record({ i: fc.nat(TOKENS - 1), j: fc.nat(TOKENS - 1), depth: fc.integer({ min: 1, max: 5 }) }),
          { minLength: 400, maxLength: 400 },
        ),
        rounds: fc.array(
          fc.array(fc.record({ pool: fc.nat(), dir: fc.boolean(), pct: fc.integer({ min: 2, max: 15 }) }), {
            minLength: 1,
            maxLength: 2,
          }),
          { minLength: 10, maxLength: 10 },
        ),
      }),
      { numRuns: 1, seed: 1919 },
    )[0]!

    beforeAll(async () => {
      c = await start()
      factories = [await deployFactory(c), await deployFactory(c)]
      tokens = []
      for (let i = 0; i < TOKENS; i++) tokens.push(await deployToken(c, 10n ** 15n * E18))
      const market = c.accounts[2]!.address.toLowerCase() as Address
      for (const t of tokens) await transfer(c, 0, t, market, 10n ** 13n * E18)
      // 60 distinct (factory, pair) combinations; every token reaches the base (token 0)
      const seen = new Set<string>()
      const want: { i: number; j: number; depth: number; f: number }[] = []
      for (let i = 1; i < TOKENS && want.length < POOLS; i++) {
        want.push({ i: 0, j: i, depth: 3, f: i % 2 })
        seen.add(`${i % 2}:0:${i}`)
      }
      for (const p of plan.pairs) {
        if (want.length >= POOLS) break
        const [i, j] = p.i < p.j ? [p.i, p.j] : [p.j, p.i]
        if (i === j) continue
        for (const f of [0, 1]) {
          const key = `${f}:${i}:${j}`
          if (seen.has(key) || want.length >= POOLS) continue
          seen.add(key)
          want.push({ i, j, depth: p.depth, f })
          break
        }
      }
      for (const w of want) {
        const pair = await createPair(c, factories[w.f]!, tokens[w.i]!, tokens[w.j]!)
        // consistent prices: value of each side = depth × 10,000 base units
        const amountI = (BigInt(w.depth) * 10_000n * E18 * 100n) / BigInt(plan.prices[w.i]!)
        const amountJ = (BigInt(w.depth) * 10_000n * E18 * 100n) / BigInt(plan.prices[w.j]!)
        await addLiquidity(c, pair, tokens[w.i]!, amountI, tokens[w.j]!, amountJ)
        const t0 = await token0(c, pair)
        pools.push({ pair, t0, t1: t0 === tokens[w.i] ? tokens[w.j]! : tokens[w.i]! })
      }
      executor = await deployExecutor(c)
    }, 300_000)
    afterAll(async () => {
      await c?.close()
    })

    it(`captures ≥ 99% of the best profit over random mispricings, never losing (${POOLS} pools, ${TOKENS} tokens)`, async () => {
      expect(pools).toHaveLength(POOLS)
      const base = tokens[0]!
      const graph = new TokenGraph({ base, maxHops: HOPS })
      const tracker = new PoolTracker(
        { factories: factories.map((address) => ({ address, fee: UNISWAP_V2_FEE })) },
        { client: c.pub, graph, logger: silentLogger },
      )
      await tracker.start()
      const modules = { public: c.pub, wallet: c.wallets[0]!, account: c.accounts[0]!, logger: silentLogger }
      const engine = new ArbEngine(
        { limits: { minProfit: 1n, maxTradesPerBlock: 1 }, tip: 1n },
        {
          graph,
          tracker,
          executor: new ExecutorClient({ address: executor, flash: true }, modules),
          public: c.pub,
          logger: silentLogger,
        },
      )
      const cycles = cyclesOf(pools, base, HOPS)
      expect(graph.cycleCount).toBe(cycles.length)
      let optimal = 0n
      let captured = 0n
      let trades = 0
      for (const round of plan.rounds) {
        for (const s of round) {
          const p = pools[s.pool % pools.length]!
          const [r0, r1] = await reserves(c, p.pair)
          await swap(c, 2, p.pair, s.dir ? p.t0 : p.t1, ((s.dir ? r0 : r1) * BigInt(s.pct)) / 100n)
        }
        const res = await Promise.all(pools.map((p) => reserves(c, p.pair)))
        const best = bestProfit(cycles, pools, res)
        const r = await engine.step()
        for (const d of r.decisions) {
          expect(d.kind).toBe('executed')
          if (d.kind !== 'executed') continue
          expect(d.execution.status).toBe('success')
          // no losing trade: the profit covers the gas it paid (base counted 1:1 with the native coin)
          expect(d.execution.profit).toBeGreaterThan(d.execution.gasUsed * d.execution.effectiveGasPrice)
          captured += d.execution.profit
          trades++
        }
        optimal += best
      }
      expect(trades).toBeGreaterThan(5)
      expect(optimal).toBeGreaterThan(0n)
      // the issue asks ≥ 95% of the optimum; exact sizing gives ~100%, so hold 99% (a search that
      // forgot a standing mispricing no later block touched scored 95.7% on this run)
      const permille = (captured * 1000n) / optimal
      expect(permille).toBeGreaterThanOrEqual(990n)
    }, 300_000)
  })
}

onEachChain('the engine in a random market', marketSuite)
