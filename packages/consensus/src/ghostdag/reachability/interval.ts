/**
 * Reachability intervals: `[start, end]`, inclusive, of whole numbers. A block's interval strictly
 * contains its tree children's. Kaspa allocates from u64; here the space is what a double holds
 * exactly (2^53), which with Kaspa's slack of 2^14 per chain block still covers ~2^39 chain blocks.
 * An empty interval is `end = start - 1`.
 */
export interface Interval {
  readonly start: number
  readonly end: number
}

/** The whole allocation space, leaving 1 at both bounds so any interval can be made empty. */
export const MAXIMAL_INTERVAL: Interval = { start: 1, end: Number.MAX_SAFE_INTEGER - 1 }

export function interval(start: number, end: number): Interval {
  if (!(start > 0 && end >= start - 1 && end < Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`bad reachability interval [${start}, ${end}]`)
  }
  return { start, end }
}

export function intervalSize(i: Interval): number {
  return i.end + 1 - i.start
}

export function isEmpty(i: Interval): boolean {
  return intervalSize(i) === 0
}

/** `a ⊇ b`. */
export function contains(a: Interval, b: Interval): boolean {
  return a.start <= b.start && b.end <= a.end
}

/** `a ⊇ b` with `b` ending before `a` does (a block strictly contains its tree descendants). */
export function strictlyContains(a: Interval, b: Interval): boolean {
  return a.start <= b.start && b.end < a.end
}

/** The first half (rounded up) and the rest. */
export function splitHalf(i: Interval): [Interval, Interval] {
  const left = Math.ceil(intervalSize(i) / 2)
  return [interval(i.start, i.start + left - 1), interval(i.start + left, i.end)]
}

/** Consecutive parts of exactly `sizes`, which must sum to the interval's size. */
export function splitExact(i: Interval, sizes: readonly number[]): Interval[] {
  let sum = 0
  for (const s of sizes) sum += s
  if (sum !== intervalSize(i)) throw new RangeError(`sizes sum to ${sum}, interval holds ${intervalSize(i)}`)
  let start = i.start
  return sizes.map((size) => {
    const part = interval(start, start + size - 1)
    start += size
    return part
  })
}

/**
 * Parts of at least `sizes` each, the rest of the space shared by an exponential bias: part i gets
 * the fraction 2^size[i] / Σ 2^size[j] of it (Kaspa's `split_exponential`). The child with the
 * largest subtree, the one GhostDAG expects to keep growing, gets nearly all the slack.
 */
export function splitExponential(i: Interval, sizes: readonly number[]): Interval[] {
  const total = intervalSize(i)
  let sum = 0
  let max = 0
  for (const s of sizes) {
    sum += s
    if (s > max) max = s
  }
  if (sum === 0 || sum > total) throw new RangeError(`cannot split ${total} into parts of at least ${sum}`)
  if (sum === total) return splitExact(i, sizes)
  const fractions = sizes.map((s) => 1 / 2 ** (max - s))
  const fractionSum = fractions.reduce((a, b) => a + b, 0)
  const totalBias = total - sum
  let remaining = totalBias
  const biased = sizes.map((s, k) => {
    const bias =
      k === sizes.length - 1 ? remaining : Math.min(remaining, Math.round((totalBias * fractions[k]!) / fractionSum))
    remaining -= bias
    return s + bias
  })
  return splitExact(i, biased)
}
