// topK against the sort it replaces: the same indices as sorting by (score descending, index
// ascending) and taking the first k, ties and duplicates included.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { topK } from '../src/math/select.ts'

function bySort(scores: number[], k: number): number[] {
  return scores
    .map((_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, Math.max(0, k))
    .sort((a, b) => a - b)
}

describe('topK', () => {
  it('equals sorting and taking the first k (ties by the lower index)', () => {
    const score = fc.oneof(
      fc.integer({ min: -3, max: 3 }), // many ties
      fc.double({ min: -1e30, max: 1e30, noNaN: true }),
    )
    fc.assert(
      fc.property(fc.array(score, { maxLength: 300 }), fc.integer({ min: -1, max: 320 }), (scores, k) => {
        expect(topK(Float64Array.from(scores), k)).toEqual(bySort(scores, k))
      }),
      { numRuns: 1000 },
    )
  })
})
