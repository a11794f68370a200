/**
 * A token bucket per key (a peer, or a peer and a protocol): `capacity` tokens, refilled at
 * `perSecond`. `take(key, n)` spends n tokens if there are that many. Time is injected.
 */
export class Quota {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly opts: { capacity: number; perSecond: number },
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string, n = 1): boolean {
    const t = this.now()
    const b = this.buckets.get(key) ?? { tokens: this.opts.capacity, at: t }
    b.tokens = Math.min(this.opts.capacity, b.tokens + ((t - b.at) / 1000) * this.opts.perSecond)
    b.at = t
    this.buckets.set(key, b)
    if (b.tokens < n) return false
    b.tokens -= n
    return true
  }

  forget(key: string): void {
    this.buckets.delete(key)
  }
}
