import type { LimitDecision, RateLimitStore } from './store.ts'

interface Entry {
  at: number
  weight: number
}

/** One bucket's hits in time order from `head` on, and the weight they hold. */
interface Log {
  entries: Entry[]
  head: number
  used: number
}

/**
 * A sliding-window log in memory: each bucket keeps its hits of the last window (a refused hit is
 * not recorded), so the window slides exactly. Hits that left the window are dropped from the
 * front as time passes and the bucket's weight is kept as a running sum, so a hit costs O(1)
 * amortized whatever the limit (only a refusal walks the log to say when the hit would fit).
 * Idle buckets are swept every `sweepEvery` hits.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Log>()
  private hits = 0

  constructor(private readonly opts: { sweepEvery: number } = { sweepEvery: 10_000 }) {}

  hit(key: string, weight: number, limit: number, windowMs: number, nowMs: number): LimitDecision {
    if (++this.hits % this.opts.sweepEvery === 0) this.sweep(windowMs, nowMs)
    let log = this.buckets.get(key)
    if (!log) {
      log = { entries: [], head: 0, used: 0 }
      this.buckets.set(key, log)
    }
    expire(log, nowMs - windowMs)
    if (log.used + weight <= limit) {
      log.entries.push({ at: nowMs, weight })
      log.used += weight
      return { allowed: true, remaining: limit - log.used, retryAfterMs: 0 }
    }
    // The hit fits once enough of the oldest entries have left the window.
    let free = limit - log.used
    let retryAfterMs = windowMs
    for (let i = log.head; i < log.entries.length; i++) {
      const e = log.entries[i] as Entry
      free += e.weight
      if (free >= weight) {
        retryAfterMs = e.at + windowMs - nowMs
        break
      }
    }
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs) }
  }

  /** Number of buckets held (for tests and metrics). */
  get size(): number {
    return this.buckets.size
  }

  private sweep(windowMs: number, nowMs: number): void {
    for (const [key, log] of this.buckets) {
      expire(log, nowMs - windowMs)
      if (log.head >= log.entries.length) this.buckets.delete(key)
    }
  }
}

/** Drops the hits at or before `since`; compacts the array once most of it is dropped. */
function expire(log: Log, since: number): void {
  const { entries } = log
  while (log.head < entries.length && (entries[log.head] as Entry).at <= since) {
    log.used -= (entries[log.head] as Entry).weight
    log.head++
  }
  if (log.head === entries.length) {
    entries.length = 0
    log.head = 0
    log.used = 0
  } else if (log.head > 1024 && log.head * 2 > entries.length) {
    log.entries = entries.slice(log.head)
    log.head = 0
  }
}
