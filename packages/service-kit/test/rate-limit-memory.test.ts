// The in-memory sliding-window log (moved from the RPC's tests with the store): never more than the
// limit in any window, and exactly a naive log's decisions.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryRateLimitStore } from '../src/index.ts'

describe('MemoryRateLimitStore', () => {
  it('never lets more than the limit through in any window, and refuses with a positive retry', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 300 }), w: fc.integer({ min: 1, max: 8 }) }), {
          maxLength: 200,
        }),
        (hits) => {
          const store = new MemoryRateLimitStore()
          const limit = 20
          const windowMs = 1000
          let t = 0
          const allowed: { at: number; w: number }[] = []
          for (const h of hits) {
            t += h.dt
            const d = store.hit('k', h.w, limit, windowMs, t)
            if (d.allowed) allowed.push({ at: t, w: h.w })
            else expect(d.retryAfterMs).toBeGreaterThan(0)
            const used = allowed.filter((a) => a.at > t - windowMs).reduce((s, a) => s + a.w, 0)
            expect(used).toBeLessThanOrEqual(limit)
          }
        },
      ),
    )
  })

  it('decides exactly as a naive sliding-window log, over long runs (front compaction) and several buckets', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 3 }),
            w: fc.integer({ min: 1, max: 5 }),
            b: fc.constantFrom('a', 'b'),
          }),
          { minLength: 3000, maxLength: 4000 },
        ),
        (hits) => {
          const store = new MemoryRateLimitStore({ sweepEvery: 97 })
          // Near the bucket's usual load, so both admissions and refusals happen.
          const limit = 400
          const windowMs = 500
          let t = 0
          const log: Record<string, { at: number; w: number }[]> = { a: [], b: [] }
          for (const h of hits) {
            t += h.dt
            const kept = (log[h.b] ?? []).filter((e) => e.at > t - windowMs)
            const used = kept.reduce((s, e) => s + e.w, 0)
            const d = store.hit(h.b, h.w, limit, windowMs, t)
            expect(d.allowed).toBe(used + h.w <= limit)
            if (d.allowed) {
              kept.push({ at: t, w: h.w })
              expect(d.remaining).toBe(limit - used - h.w)
            }
            log[h.b] = kept
          }
        },
      ),
      { numRuns: 30, endOnFailure: true }, // no shrinking: runs are thousands of hits long
    )
  })
})
