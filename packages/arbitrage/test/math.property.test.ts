// The V2 math and the closed-form sizing, as properties: getAmountOut is exactly the largest output
// the pair's K check accepts; a folded path traces the same curve as its pools (exact rationals);
// the closed-form optimum matches a numeric search of the exact integer profit within 0.1%.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  foldPath,
  type Hop,
  isProfitable,
  leastInputForOutput,
  optimalInput,
  quickSize,
  simulatePath,
  sizeCycle,
  sizeCycleExact,
  virtualAmountOut,
} from '../src/math/path.ts'
import { feeFromBps, getAmountIn, getAmountOut, isqrt, type PoolFee, UNISWAP_V2_FEE } from '../src/math/v2.ts'

const reserve = fc.bigInt({ min: 1000n, max: (1n << 112n) - 1n })
const fee: fc.Arbitrary<PoolFee> = fc.oneof(
  fc.constant(UNISWAP_V2_FEE),
  fc.integer({ min: 0, max: 100 }).map((bps) => feeFromBps(bps)),
)

/** UniswapV2Pair.swap's K check, generalised to a fee num/den (the pair: 1000·b − 3·in). */
function kHolds(rIn: bigint, rOut: bigint, amountIn: bigint, amountOut: bigint, f: PoolFee): boolean {
  if (amountOut >= rOut) return false
  const balIn = rIn + amountIn
  const balOut = rOut - amountOut
  const adjIn = balIn * f.den - amountIn * (f.den - f.num)
  const adjOut = balOut * f.den
  return adjIn * adjOut >= rIn * rOut * f.den * f.den
}

describe('V2 constant-product math', () => {
  it('matches UniswapV2Library on a known value', () => {
    expect(getAmountOut(10n ** 18n, 100n * 10n ** 18n, 200n * 10n ** 18n)).toBe(1974316068794122597n)
    expect(getAmountIn(1974316068794122597n, 100n * 10n ** 18n, 200n * 10n ** 18n)).toBe(999999999999999999n + 1n)
  })

  it('getAmountOut is the largest output the pair accepts (K check), for any fee', () => {
    fc.assert(
      fc.property(reserve, reserve, fc.bigInt({ min: 1n, max: 1n << 112n }), fee, (rIn, rOut, x, f) => {
        const out = getAmountOut(x, rIn, rOut, f)
        expect(out).toBeGreaterThanOrEqual(0n)
        expect(kHolds(rIn, rOut, x, out, f)).toBe(true)
        expect(kHolds(rIn, rOut, x, out + 1n, f)).toBe(false)
      }),
      { numRuns: 500 },
    )
  })

  it('getAmountIn is the least input that buys the output', () => {
    fc.assert(
      fc.property(reserve, reserve, fc.bigInt({ min: 1n, max: 1n << 111n }), fee, (rIn, rOut, want, f) => {
        fc.pre(want < rOut)
        const x = getAmountIn(want, rIn, rOut, f)!
        expect(getAmountOut(x, rIn, rOut, f)).toBeGreaterThanOrEqual(want)
        // UniswapV2Library rounds up by adding 1: x - 1 may still suffice only when the quotient was exact
        expect(getAmountOut(x - 2n, rIn, rOut, f)).toBeLessThan(want)
      }),
      { numRuns: 300 },
    )
  })

  it('isqrt is the floor of the square root', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 600n }), (n) => {
        const r = isqrt(n)
        expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })
})

const hop: fc.Arbitrary<Hop> = fc.record({
  reserveIn: fc.bigInt({ min: 10n ** 12n, max: 10n ** 26n }),
  reserveOut: fc.bigInt({ min: 10n ** 12n, max: 10n ** 26n }),
  fee,
})
const path = fc.array(hop, { minLength: 1, maxLength: 4 })

/** The exact (unfloored) output of x through the hops, as a fraction. */
function exactOut(hops: Hop[], x: bigint): { n: bigint; d: bigint } {
  let n = x
  let d = 1n
  for (const h of hops) {
    const nn = h.fee.num * n * h.reserveOut
    d = h.fee.den * h.reserveIn * d + h.fee.num * n
    n = nn
  }
  return { n, d }
}

describe('a path folded into one virtual pool', () => {
  it('traces exactly the composed curve of its pools', () => {
    fc.assert(
      fc.property(path, fc.bigInt({ min: 1n, max: 10n ** 25n }), (hops, x) => {
        const v = foldPath(hops)
        const exact = exactOut(hops, x)
        // virtual: g·x·b / (G·a + g·x·d)
        const vn = v.fee.num * x * v.b
        const vd = v.fee.den * v.a + v.fee.num * x * v.d
        expect(vn * exact.d).toBe(exact.n * vd)
        // the pools' floors only ever lose: the exact simulation is at most the virtual output
        expect(simulatePath(hops, x).amountOut).toBeLessThanOrEqual(virtualAmountOut(v, x))
      }),
      { numRuns: 300 },
    )
  })
})

/** Exact integer profit of x through the cycle. */
const profitAt = (hops: Hop[], x: bigint) => simulatePath(hops, x).amountOut - x

/** A numeric maximum of the exact profit: ternary search, then a scan around the result. */
function numericBest(hops: Hop[], hi: bigint): bigint {
  let lo = 0n
  while (hi - lo > 8n) {
    const m1 = lo + (hi - lo) / 3n
    const m2 = hi - (hi - lo) / 3n
    if (profitAt(hops, m1) < profitAt(hops, m2)) lo = m1
    else hi = m2
  }
  let best = 0n
  for (let x = lo; x <= hi; x++) {
    const p = profitAt(hops, x)
    if (p > best) best = p
  }
  return best
}

describe('closed-form optimal input', () => {
  it('sizes a cycle whose continuous optimum is below one unit that gets through (a found counterexample)', () => {
    const f = (num: bigint, den: bigint) => ({ num, den })
    const hops: Hop[] = [
      { reserveIn: 1029588000000n, reserveOut: 1030000000000n, fee: f(9996n, 10000n) },
      { reserveIn: 10n ** 12n, reserveOut: 10583056594565291372226n, fee: f(997n, 1000n) },
      { reserveIn: 10n ** 12n, reserveOut: 94774984723628046570295632n, fee: f(1n, 1n) },
      { reserveIn: 10n ** 12n, reserveOut: 10n ** 12n, fee: f(1n, 1n) },
    ]
    // x* < 1: floor 0, and 1 unit rounds to nothing in the first pool; 2 units take ~all of the last
    expect(optimalInput(foldPath(hops))).toBe(0n)
    expect(sizeCycle(hops)).toMatchObject({ amountIn: 2n, profit: 999999999996n })
  })

  it('matches a numeric search of the exact profit within 0.1% (differential, 2–4 hop cycles)', () => {
    let checked = 0
    fc.assert(
      fc.property(
        fc.array(hop, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 400 }),
        (hops, skewPermille) => {
          // misprice the first hop so that a share of the cycles are profitable
          const skewed = hops.map((h, i) =>
            i === 0 ? { ...h, reserveOut: h.reserveOut + (h.reserveOut * BigInt(skewPermille)) / 100n } : h,
          )
          const sized = sizeCycleExact(skewed)
          const closed = sized.profit
          // the size is the closed form's floor, the unit above it, or (where the floors let nothing
          // through below it) the least input that brings out a unit: nothing searched
          const x = optimalInput(foldPath(skewed))
          if (sized.amountIn > 0n) expect([x, x + 1n, leastInputForOutput(skewed)]).toContain(sized.amountIn)
          // the search spans well past the optimum: the whole first reserve
          const best = numericBest(skewed, skewed[0]!.reserveIn)
          if (best < 10n ** 9n) return // dust: floors dominate, nothing to trade
          checked++
          expect(closed * 1000n).toBeGreaterThanOrEqual(best * 999n)
          // and no input the search tried is better by more than rounding
          expect(closed).toBeGreaterThan(0n)
        },
      ),
      { numRuns: 300 },
    )
    expect(checked).toBeGreaterThan(30)
  })

  it('skips the least-input candidate only where it cannot win (differential against always trying it)', () => {
    // The sizing before the shortcut: floor, floor + 1 and the least input that brings out a unit,
    // each capped at maxIn, the best kept.
    const reference = (hops: Hop[], maxIn?: bigint) => {
      const floor = optimalInput(foldPath(hops))
      const candidates = [floor, floor + 1n]
      const least = leastInputForOutput(hops)
      if (least !== undefined && least > floor + 1n) candidates.push(least)
      let best = { amountIn: 0n, profit: 0n }
      let any = false
      for (let x of candidates) {
        if (maxIn !== undefined && x > maxIn) x = maxIn
        if (x <= 0n) continue
        const profit = simulatePath(hops, x).amountOut - x
        if (!any || profit > best.profit) best = { amountIn: x, profit }
        any = true
      }
      return best
    }
    // small reserves and wide price gaps, where the floors matter (one unit worth many of the next)
    const tiny = fc.bigInt({ min: 1n, max: 10n ** 6n })
    const anyReserve = fc.oneof(tiny, reserve)
    const rawHop = fc.record({ reserveIn: anyReserve, reserveOut: anyReserve, fee })
    fc.assert(
      fc.property(
        fc.array(rawHop, { minLength: 2, maxLength: 4 }),
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 9n }), { nil: undefined }),
        (hops, maxIn) => {
          fc.pre(isProfitable(foldPath(hops)))
          const got = sizeCycleExact(hops, maxIn)
          expect({ amountIn: got.amountIn, profit: got.profit }).toEqual(reference(hops, maxIn))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('the float-seeded sizing gives up no more than rounding against the exact one (differential)', () => {
    let seeded = 0
    fc.assert(
      fc.property(
        fc.array(hop, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.bigInt({ min: 1n, max: 1n << 100n }), { nil: undefined }),
        (hops, skewPermille, maxIn) => {
          const skewed = hops.map((h, i) =>
            i === 0 ? { ...h, reserveOut: h.reserveOut + (h.reserveOut * BigInt(skewPermille)) / 1000n } : h,
          )
          const fast = sizeCycle(skewed, maxIn)
          const exact = sizeCycleExact(skewed, maxIn)
          // the amounts are what the pools pay for the input, whichever way it was chosen
          const sim = simulatePath(skewed, fast.amountIn)
          if (fast.amountIn > 0n) expect([fast.amountOut, fast.hopOuts]).toEqual([sim.amountOut, sim.hopOuts])
          if (maxIn !== undefined) expect(fast.amountIn <= maxIn).toBe(true)
          const q = quickSize(skewed)
          if (q.amountIn < 2 ** 40 || q.margin < 1e-4) {
            expect(fast).toEqual(exact)
            return
          }
          seeded++
          // profit is flat at the optimum: the float input's error costs a small fraction of a unit;
          // what is left is the floors (a unit of each hop's output) landing differently. The slack is
          // a billionth of the profit's size: a cycle with nothing profitable has a negative profit
          // (Sizing.profit), where `exact.profit / 1e9` made the bound stricter than exact.
          const size = exact.profit < 0n ? -exact.profit : exact.profit
          expect(fast.profit).toBeGreaterThanOrEqual(exact.profit - size / 10n ** 9n)
        },
      ),
      { numRuns: 1000 },
    )
    expect(seeded).toBeGreaterThan(100)
  })

  it('trims the float-seeded input to the least that buys the same first output (a coarse middle token)', () => {
    // fast-check's counterexample (seed 41244978): the middle token has 10^12 units against 10^26,
    // so each of its units costs ~10^14 of the input, and the rounded float input landed deep inside
    // one unit's step, paying 4.8e9 more than needed for the same output.
    const hops: Hop[] = [
      { reserveIn: 99988080338528137000799570n, reserveOut: 1396000000000n, fee: UNISWAP_V2_FEE },
      { reserveIn: 1000000000000n, reserveOut: 72081279514375320059772929n, fee: UNISWAP_V2_FEE },
    ]
    const fast = sizeCycle(hops)
    const exact = sizeCycleExact(hops)
    expect(fast.amountIn).not.toBe(0n)
    expect(fast.profit).toBeGreaterThanOrEqual(exact.profit)
    // one unit less buys less of the middle token: the input is the least for its output
    expect(simulatePath(hops, fast.amountIn - 1n).hopOuts[0]).toBeLessThan(fast.hopOuts[0] as bigint)
  })

  it('is 0n for an unprofitable cycle, and capped by maxIn', () => {
    const flat: Hop[] = [
      { reserveIn: 10n ** 21n, reserveOut: 10n ** 21n, fee: UNISWAP_V2_FEE },
      { reserveIn: 10n ** 21n, reserveOut: 10n ** 21n, fee: UNISWAP_V2_FEE },
    ]
    expect(optimalInput(foldPath(flat))).toBe(0n)
    expect(sizeCycle(flat).profit).toBe(0n)
    const skew: Hop[] = [
      { reserveIn: 10n ** 21n, reserveOut: 2n * 10n ** 21n, fee: UNISWAP_V2_FEE },
      { reserveIn: 10n ** 21n, reserveOut: 10n ** 21n, fee: UNISWAP_V2_FEE },
    ]
    const free = sizeCycle(skew)
    expect(free.profit).toBeGreaterThan(0n)
    const capped = sizeCycle(skew, free.amountIn / 10n)
    expect(capped.amountIn).toBe(free.amountIn / 10n)
    expect(capped.profit).toBeLessThan(free.profit)
    expect(capped.profit).toBeGreaterThan(0n)
  })
})
