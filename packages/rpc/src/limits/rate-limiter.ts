import type { LimitDecision, RateLimitStore } from './store.ts'
import { methodWeight } from './weights.ts'

export interface RateLimitOptions {
  enabled: boolean
  /** Length of the sliding window in ms. */
  windowMs: number
  /** Weight an anonymous client IP may spend per window. */
  perIp: number
  /** Weight one API key (or JWT subject) may spend per window. */
  perKey: number
}

export const RATE_LIMIT_OFF: RateLimitOptions = { enabled: false, windowMs: 60_000, perIp: 600, perKey: 6000 }

/**
 * Charges each request's method weights to its caller: the API key (or JWT subject) when
 * authenticated, else the client IP. A weight larger than the whole limit is always refused.
 */
export class RateLimiter {
  constructor(
    readonly opts: RateLimitOptions,
    private readonly modules: { store: RateLimitStore },
  ) {}

  /** Charges `methods` to the caller; undefined when limits are off. */
  charge(caller: { ip: string; key: string | null }, methods: readonly string[], nowMs = Date.now()): LimitDecision {
    if (!this.opts.enabled) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0 }
    let weight = 0
    for (const m of methods) weight += methodWeight(m)
    const [bucket, limit] = caller.key ? [`key:${caller.key}`, this.opts.perKey] : [`ip:${caller.ip}`, this.opts.perIp]
    return this.modules.store.hit(bucket, weight, limit, this.opts.windowMs, nowMs)
  }
}
