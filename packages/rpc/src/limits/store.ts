/** The outcome of charging a bucket. */
export interface LimitDecision {
  allowed: boolean
  /** Weight left in the window after this hit (0 when refused). */
  remaining: number
  /** When refused: ms until the hit would fit. */
  retryAfterMs: number
}

/**
 * Where rate-limit windows live. The in-memory store serves one instance; a shared store (Redis)
 * would implement the same interface for several instances.
 */
export interface RateLimitStore {
  /** Charges `weight` to `key` if the last `windowMs` plus it stay within `limit`. */
  hit(key: string, weight: number, limit: number, windowMs: number, nowMs: number): LimitDecision
}
