// A path of constant-product pools folded into one virtual pool, and the closed-form optimal input
// of a cycle (Wang et al., "Cyclic Arbitrage in Decentralized Exchanges", 2022, §3; generalised to
// a fee per pool). Everything stays in exact integers: the virtual reserves are kept as fractions
// over one common denominator.
import { getAmountIn, getAmountOut, isqrt, type PoolFee } from './v2.ts'

/** One hop: the reserves of the token going in and of the token coming out, and the pool's fee. */
export interface Hop {
  reserveIn: bigint
  reserveOut: bigint
  fee: PoolFee
}

/**
 * A virtual constant-product pool equivalent to a whole path (for continuous amounts): reserves
 * `a/d` in and `b/d` out, with the first hop's fee on its input. A trade of x through the path
 * gives `γ·x·b / (a + γ·x·d)` (γ = fee.num / fee.den), up to the floor of each hop.
 */
export interface VirtualPool {
  a: bigint
  b: bigint
  d: bigint
  fee: PoolFee
}

/**
 * Folds a path into one virtual pool. Folding hop (r_in, r_out, g/G) onto (a/d, b/d):
 * `a' = a·r_in·G`, `b' = g·b·r_out`, `d' = r_in·G·d + g·b` — the same curve the two pools trace
 * together, derived from `out₂(out₁(x))`.
 */
export function foldPath(hops: readonly Hop[]): VirtualPool {
  const first = hops[0]
  if (!first) return { a: 1n, b: 0n, d: 1n, fee: { num: 0n, den: 1n } }
  let a = first.reserveIn
  let b = first.reserveOut
  let d = 1n
  for (let i = 1; i < hops.length; i++) {
    const h = hops[i]!
    const nd = h.reserveIn * h.fee.den * d + h.fee.num * b
    a = a * h.reserveIn * h.fee.den
    b = h.fee.num * b * h.reserveOut
    d = nd
  }
  return { a, b, d, fee: first.fee }
}

/** The continuous output of `x` through a virtual pool (a check of the fold; floors once). */
export function virtualAmountOut(v: VirtualPool, x: bigint): bigint {
  if (x <= 0n) return 0n
  return (v.fee.num * x * v.b) / (v.fee.den * v.a + v.fee.num * x * v.d)
}

/** True when a marginal unit through the path returns more than it costs: γ·b > a. */
export function isProfitable(v: VirtualPool): boolean {
  return v.fee.num * v.b > v.fee.den * v.a
}

/**
 * The input that maximises `out(x) − x` through a cycle's virtual pool, in closed form:
 * `x* = (√(g·G·a·b) − G·a) / (g·d)` (floored), 0n when no input is profitable.
 */
export function optimalInput(v: VirtualPool): bigint {
  if (!isProfitable(v)) return 0n
  const g = v.fee.num
  const G = v.fee.den
  const x = (isqrt(g * G * v.a * v.b) - G * v.a) / (g * v.d)
  return x > 0n ? x : 0n
}

/**
 * The exact output of `amountIn` through the path, hop by hop with `getAmountOut`'s floors: what
 * the pools will pay. Also returns each hop's output.
 */
export function simulatePath(hops: readonly Hop[], amountIn: bigint): { amountOut: bigint; hopOuts: bigint[] } {
  let amount = amountIn
  const hopOuts: bigint[] = []
  for (const h of hops) {
    amount = getAmountOut(amount, h.reserveIn, h.reserveOut, h.fee)
    hopOuts.push(amount)
  }
  return { amountOut: amount, hopOuts }
}

/** The result of sizing a cycle. */
export interface Sizing {
  amountIn: bigint
  amountOut: bigint
  /** amountOut − amountIn, before gas (may be ≤ 0n when nothing is profitable). */
  profit: bigint
  hopOuts: bigint[]
}

/**
 * Below this float optimum the exact fold decides: there a unit of input is a visible share of the
 * trade, and floors and the fraction of the optimum matter.
 */
export const FLOAT_SEED_MIN_INPUT = 2 ** 40
/**
 * Below this margin (√(γ·out/in) − 1 of the folded pool) the exact fold decides: the float optimum
 * is a difference of near-equal terms, and its relative error grows as 1/margin.
 */
export const FLOAT_SEED_MIN_MARGIN = 1e-4

/**
 * Sizes a cycle. Where the float closed form is reliable (an optimum of at least 2^40 units and a
 * margin of at least 1e-4: relative error of the input ≲ 1e-11, which costs far less than a unit of
 * profit, since profit is flat at its optimum), its rounded input is simulated exactly, once; else
 * {@link sizeCycleExact}. Either way the amounts are what the pools pay for that input (floors per
 * hop), and the input is capped at `maxIn`. The float seed skips the fold's wide integers, the
 * square root of a ~700-bit number and a second simulation: ~3× less work per 4-hop cycle.
 */
export function sizeCycle(hops: readonly Hop[], maxIn?: bigint): Sizing {
  const q = quickSize(hops)
  if (q.amountIn >= FLOAT_SEED_MIN_INPUT && q.margin >= FLOAT_SEED_MIN_MARGIN) {
    let x = BigInt(Math.round(q.amountIn))
    if (maxIn !== undefined && x > maxIn) x = maxIn
    if (x > 0n) {
      const { amountOut, hopOuts } = simulatePath(hops, x)
      // The first hop pays whole units: the least input that buys the same first output brings
      // the same amount out for less. Where that token's unit is worth many units of the input,
      // the float's rounding lands far inside a unit's step and the trim is worth keeping.
      const first = hops[0] as Hop
      const least = getAmountIn(hopOuts[0] ?? 0n, first.reserveIn, first.reserveOut, first.fee)
      if (least !== undefined && least < x) {
        const trimmed = simulatePath(hops, least)
        if (trimmed.amountOut === amountOut) x = least
      }
      if (amountOut > x) return { amountIn: x, amountOut, profit: amountOut - x, hopOuts }
    }
  }
  return sizeCycleExact(hops, maxIn)
}

/**
 * Sizes a cycle in exact integers: the closed-form optimum (its floor and the unit above,
 * whichever the exact simulation prefers: where one unit moves the price a lot the fraction
 * matters), capped at `maxIn`, then simulated exactly. Profit is a concave function of the input,
 * so the cap's value is the best under the cap.
 */
export function sizeCycleExact(hops: readonly Hop[], maxIn?: bigint): Sizing {
  const v = foldPath(hops)
  if (!isProfitable(v)) return { amountIn: 0n, amountOut: 0n, profit: 0n, hopOuts: [] }
  const floor = optimalInput(v)
  let best: Sizing | undefined
  /** Simulates `input` (capped at maxIn) and keeps it if best; returns its output. */
  const consider = (input: bigint): bigint => {
    const x = maxIn !== undefined && input > maxIn ? maxIn : input
    if (x <= 0n) return 0n
    const { amountOut, hopOuts } = simulatePath(hops, x)
    if (!best || amountOut - x > best.profit) best = { amountIn: x, amountOut, profit: amountOut - x, hopOuts }
    return amountOut
  }
  consider(floor)
  const outAbove = consider(floor + 1n)
  // where the continuous optimum is below what the floors let through at all (one unit of a token
  // worth a great many of the next), the least input that brings out one unit is the best start.
  // Outputs grow with the input, so that least input exceeds floor + 1 exactly when floor + 1
  // brings out nothing (and under a cap below floor + 1 every candidate is the cap anyway).
  if (outAbove === 0n && (maxIn === undefined || floor + 1n <= maxIn)) {
    const least = leastInputForOutput(hops)
    if (least !== undefined && least > floor + 1n) consider(least)
  }
  return best ?? { amountIn: 0n, amountOut: 0n, profit: 0n, hopOuts: [] }
}

/** The least input whose output through every hop's floors is at least one unit (backwards with getAmountIn). */
export function leastInputForOutput(hops: readonly Hop[]): bigint | undefined {
  let need = 1n
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!
    const x = getAmountIn(need, h.reserveIn, h.reserveOut, h.fee)
    if (x === undefined) return undefined
    need = x
  }
  return need
}

/**
 * The cycle's best profit and its input in floating point (the fold normalised per hop, so nothing
 * overflows): a cheap first look that lets the search skip the exact integer sizing of cycles that
 * cannot clear the bar. Relative error ~1e-12; callers keep a margin.
 */
export function quickSize(hops: readonly Hop[]): { amountIn: number; profit: number; margin: number } {
  const first = hops[0]
  if (!first) return { amountIn: 0, profit: 0, margin: 0 }
  let ein = Number(first.reserveIn)
  let eout = Number(first.reserveOut)
  for (let i = 1; i < hops.length; i++) {
    const h = hops[i]!
    const g = Number(h.fee.num) / Number(h.fee.den)
    const rIn = Number(h.reserveIn)
    const den = rIn + g * eout
    ein = (ein * rIn) / den
    eout = (g * eout * Number(h.reserveOut)) / den
  }
  const g = Number(first.fee.num) / Number(first.fee.den)
  if (!(g * eout > ein)) return { amountIn: 0, profit: 0, margin: 0 }
  const root = Math.sqrt(g * ein * eout)
  const x = (root - ein) / g
  return { amountIn: x, profit: (g * x * eout) / (ein + g * x) - x, margin: root / ein - 1 }
}
