// A block's plan (unit tier): the best opportunity first; one through a pool it moved is sized
// again on the reserves it leaves — exactly as sizing the cycle on a graph where the first trade
// was applied — or dropped when it no longer pays; disjoint ones keep their sizes; a cycle that
// paid nothing before but pays after an earlier trade is added; the per-block limit holds.
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { type Address, TokenGraph } from '../src/graph/token-graph.ts'
import { applyTrade, hopsOn, planBatch, type ReserveView } from '../src/strategy/batch-plan.ts'
import { findOpportunities } from '../src/strategy/search.ts'
import { TransferFees } from '../src/strategy/transfer-fees.ts'
import { E21, pool, poolAddr, tok } from './v2-pools.ts'

const noGas = { gas: { gasUnits: () => 0n, gasPrice: 0n } }

/** Base 0; token 1 cheap on pool 1, dear on pools 2 and 3 (two cycles share pool 1); token 2 mispriced on its own. */
function market(): TokenGraph {
  const g = new TokenGraph({ base: tok(0), maxHops: 2 })
  g.addPool(pool(1, 0, 1, E21, 2n * E21))
  g.addPool(pool(2, 0, 1, E21, E21))
  g.addPool(pool(3, 0, 1, E21, (E21 * 11n) / 10n))
  g.addPool(pool(4, 0, 2, E21, (E21 * 13n) / 10n))
  g.addPool(pool(5, 0, 2, E21, E21))
  return g
}

describe('planBatch', () => {
  it('takes the best, sizes the next through a moved pool on what the first left (as on a graph with it applied), keeps disjoint ones', () => {
    const g = market()
    const found = findOpportunities(g, noGas)
    const plan = planBatch(g, found, { max: 8, minProfit: 1n })
    expect(plan.trades[0]).toBe(found[0])
    // the first trade through pool 1 moved it: every later trade through pool 1 was sized again
    const first = plan.trades[0]!
    const view: ReserveView = new Map()
    applyTrade(g, view, first, null)
    const after = market()
    for (const [a, [r0, r1]] of view) after.setReserves(a, r0, r1)
    for (const t of plan.trades.slice(1)) {
      if (!t.cycle.pools.some((p) => first.cycle.pools.includes(p))) {
        // disjoint from the first: the same object as found
        expect(found).toContain(t)
        expect(plan.sequenced.has(t)).toBe(false)
        continue
      }
      expect(plan.sequenced.has(t)).toBe(true)
      // sized exactly as the cycle sizes on the reserves after the first trade (no trade between them moved its pools)
      const between = plan.trades.slice(1, plan.trades.indexOf(t))
      if (between.some((b) => b.cycle.pools.some((p) => t.cycle.pools.includes(p)))) continue
      const [ref] = findOpportunities(after, noGas).filter((o) => o.cycle.key === t.cycle.key)
      expect(ref).toBeDefined()
      expect(t.amountIn).toBe(ref!.amountIn)
      expect(t.amountOut).toBe(ref!.amountOut)
    }
    // both mispricings (token 1 and token 2) are in the plan
    expect(plan.trades.some((t) => t.cycle.tokens.includes(tok(2)))).toBe(true)
    expect(plan.trades.filter((t) => t.cycle.tokens.includes(tok(1))).length).toBeGreaterThanOrEqual(2)
    // every planned trade pays at the view it was sized on: profits fall as the plan goes on through one pool
    for (const t of plan.trades) expect(t.netProfit).toBeGreaterThanOrEqual(1n)
  })

  it('holds the per-block limit, and a re-sized opportunity that no longer pays is dropped', () => {
    const g = market()
    const found = findOpportunities(g, noGas)
    expect(planBatch(g, found, { max: 1, minProfit: 1n }).trades).toEqual([found[0]])
    // a minimum only the first clears: nothing re-sized after it is kept
    const plan = planBatch(g, found, { max: 8, minProfit: found[1]!.netProfit + 1n })
    expect(plan.trades).toEqual([found[0]])
  })

  it('adds a cycle a planned trade made pay (moreThrough), and never sequences a cycle canSequence refuses', () => {
    const g = new TokenGraph({ base: tok(0), maxHops: 2 })
    // token 1: pool 1 cheap, pool 2 dear (the trade), pool 3 at pool 2's price before the trade:
    // after buying on 1 and selling on 2, pool 3 is dearer than pool 2 — cycle 2→3 did not pay before
    g.addPool(pool(1, 0, 1, E21, 2n * E21))
    g.addPool(pool(2, 0, 1, E21, E21))
    g.addPool(pool(3, 0, 1, E21 * 100n, E21 * 100n))
    const found = findOpportunities(g, noGas).filter((o) => o.cycle.pools.includes(poolAddr(1)))
    const more = (pools: readonly Address[]) => g.cyclesThrough(pools)
    const plan = planBatch(g, found.slice(0, 1), { max: 4, minProfit: 1n, moreThrough: more, gasCost: () => 0n })
    expect(plan.trades.length).toBeGreaterThan(1)
    expect(plan.trades.slice(1).every((t) => plan.sequenced.has(t))).toBe(true)
    const refused = planBatch(g, found.slice(0, 1), {
      max: 4,
      minProfit: 1n,
      moreThrough: more,
      gasCost: () => 0n,
      canSequence: () => false,
    })
    expect(refused.trades).toHaveLength(1)
  })

  it('folds a known transfer fee into the view (the pair receives less than the previous one sent)', () => {
    const g = market()
    const fees = new TransferFees({ logger: silentLogger })
    fees.set(tok(1), 100)
    const [o] = findOpportunities(g, noGas)
    const view: ReserveView = new Map()
    applyTrade(g, view, o!, fees)
    const second = o!.cycle.pools[1]!
    const p = g.pool(second)!
    const [r0, r1] = view.get(second)!
    const into = o!.cycle.tokens[1] === p.token0 ? r0 - p.reserve0 : r1 - p.reserve1
    expect(into).toBe(o!.hopOuts[0]! - (o!.hopOuts[0]! * 100n) / 10_000n)
    expect(hopsOn(g, o!.cycle, view, fees)[1]!.fee).toEqual({ num: 997n * 9900n, den: 1000n * 10_000n })
  })
})
