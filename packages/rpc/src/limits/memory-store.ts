import type { LimitDecision, RateLimitStore } from './store.ts'

interface Entry {
  at: number
  weight: number
}

/**
 * A sliding-window log in memory: each bucket keeps its hits of the last window (at most
 * `limit` entries, since a refused hit is not recorded), so the window slides exactly. Idle
 * buckets are swept every `sweepEvery` hits.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Entry[]>()
  private hits = 0

  constructor(private readonly opts: { sweepEvery: number } = { sweepEvery: 10_000 }) {}

  hit(key: string, weight: number, limit: number, windowMs: number, nowMs: number): LimitDecision {
    if (++this.hits % this.opts.sweepEvery === 0) this.sweep(windowMs, nowMs)
    const since = nowMs - windowMs
    const log = (this.buckets.get(key) ?? []).filter((e) => e.at > since)
    let used = 0
    for (const e of log) used += e.weight
    if (used + weight <= limit) {
      log.push({ at: nowMs, weight })
      this.buckets.set(key, log)
      return { allowed: true, remaining: limit - used - weight, retryAfterMs: 0 }
    }
    this.buckets.set(key, log)
    // The hit fits once enough of the oldest entries have left the window.
    let free = limit - used
    let retryAfterMs = windowMs
    for (const e of log) {
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
      if (log.every((e) => e.at <= nowMs - windowMs)) this.buckets.delete(key)
    }
  }
}
