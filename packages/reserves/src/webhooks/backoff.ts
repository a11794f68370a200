// The retry schedule of a failed delivery: exponential with "equal jitter" — the n-th retry waits
// between half and all of min(max, base·2^(n−1)), the random half spreading retries of many
// deliveries (a receiver coming back from an outage is not hit by all of them at once) while the
// delay still grows with every attempt. The randomness is injected so the schedule is testable.

export interface BackoffOptions {
  /** The first retry's upper bound, ms. */
  baseMs: number
  /** No retry waits longer than this, ms. */
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 6 * 3_600_000 }

/**
 * How long to wait before retrying after failed attempt number `attempt` (1 = the first delivery
 * failed). `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number): number {
  const n = Math.max(1, Math.floor(attempt))
  // 2^(n−1) overflows to Infinity past ~1024 attempts; min() keeps it at maxMs
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(n - 1, 1023))
  const r = Math.min(Math.max(random(), 0), 1)
  return Math.round(cap / 2 + (cap / 2) * r)
}
