/** The outcome of charging a bucket. */
export interface LimitDecision {
  allowed: boolean
  /** Weight left in the window after this hit (0 when refused). */
  remaining: number
  /** When refused: ms until the hit would fit. */
  retryAfterMs: number
  /** The store failed: the decision is the `rateLimit.onStoreError` policy's, not the window's. */
  storeDown?: boolean
}

/**
 * Where rate-limit windows live: in memory ({@link MemoryRateLimitStore}, one instance) or in
 * Redis ({@link RedisRateLimitStore}, shared by every instance pointing at it). Both keep the
 * same sliding-window log, so a limit means the same thing whichever holds it.
 */
export interface RateLimitStore {
  /** Charges `weight` to `key` if the last `windowMs` plus it stay within `limit`. May throw when the store is down. */
  hit(
    key: string,
    weight: number,
    limit: number,
    windowMs: number,
    nowMs: number,
  ): LimitDecision | Promise<LimitDecision>
  /** Releases connections (Redis). */
  close?(): Promise<void>
}
