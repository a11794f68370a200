import type { Logger } from '@cairn/utils'
import type { LimitDecision, RateLimitStore } from './store.ts'

export interface RateLimitOptions {
  enabled: boolean
  /** Length of the sliding window in ms. */
  windowMs: number
  /** Weight an anonymous client IP may spend per window. */
  perIp: number
  /** Weight one API key (or JWT subject) may spend per window. */
  perKey: number
  /** When the store fails: `open` lets the request through, `closed` refuses it (503). */
  onStoreError: 'open' | 'closed'
}

export const RATE_LIMIT_OFF: RateLimitOptions = {
  enabled: false,
  windowMs: 60_000,
  perIp: 600,
  perKey: 6000,
  onStoreError: 'open',
}

/** How often a failing store is logged at most (the failures in between are counted in the line). */
const STORE_ERROR_LOG_MS = 10_000

/**
 * Charges each request's weight to its caller: the API key (or JWT subject) when authenticated,
 * else the client IP. A request is a list of named items (JSON-RPC methods, routes) and `weigh`
 * says what one costs (default 1: a service's own table, e.g. the RPC's method weights). A weight larger than the whole limit is always refused.
 * When the store throws (Redis down), the request is let through or refused per `onStoreError`,
 * never crashing the server; the failure is logged (at most every 10 s, with a count).
 */
export class RateLimiter {
  private failures = 0
  private lastLogged = 0

  constructor(
    readonly opts: RateLimitOptions,
    private readonly modules: {
      store: RateLimitStore
      logger?: Logger
      /** What one item costs (default 1). */
      weigh?: (item: string) => number
      /** Milliseconds since the epoch (tests inject a clock). */
      now?: () => number
    },
  ) {}

  /** Charges `items` (methods, routes) to the caller. */
  async charge(
    caller: { ip: string; key: string | null },
    items: readonly string[],
    nowMs = (this.modules.now ?? Date.now)(),
  ): Promise<LimitDecision> {
    if (!this.opts.enabled) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0 }
    const weigh = this.modules.weigh
    let weight = 0
    for (const m of items) weight += weigh ? weigh(m) : 1
    const [bucket, limit] = caller.key ? [`key:${caller.key}`, this.opts.perKey] : [`ip:${caller.ip}`, this.opts.perIp]
    try {
      return await this.modules.store.hit(bucket, weight, limit, this.opts.windowMs, nowMs)
    } catch (err) {
      this.storeFailed(err)
      return this.opts.onStoreError === 'closed'
        ? { allowed: false, remaining: 0, retryAfterMs: 1000, storeDown: true }
        : { allowed: true, remaining: 0, retryAfterMs: 0, storeDown: true }
    }
  }

  private storeFailed(err: unknown): void {
    this.failures++
    const now = (this.modules.now ?? Date.now)()
    if (now - this.lastLogged < STORE_ERROR_LOG_MS) return
    this.lastLogged = now
    this.modules.logger?.warn(
      { err, failures: this.failures, policy: this.opts.onStoreError === 'open' ? 'fail open' : 'fail closed' },
      `rate-limit store failing: requests are ${this.opts.onStoreError === 'open' ? 'let through' : 'refused (503)'}`,
    )
    this.failures = 0
  }
}
