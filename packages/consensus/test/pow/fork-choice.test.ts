// Heaviest-total-work fork choice: work from targets, the head of a block tree (most work, not most
// blocks; ties to the first seen), and the engine's incremental rule (a node folding prefersHead
// over blocks as they arrive, extending its head or not) ending on the same head, on random trees.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TWO_256 } from '../../src/pow/compact-bits.ts'
import { heaviestHead, prefersHead, type WorkHeader, type WorkTip } from '../../src/pow/fork-choice.ts'
import { workOf } from '../../src/pow/work.ts'

const ROOT: WorkTip = { hash: 'g', totalWork: 1n }

/** What a node does as blocks arrive (chain/src/import/fork-choice.ts with prefersHead as preferHead). */
function foldArrivals(root: WorkTip, headers: readonly WorkHeader[]): WorkTip {
  const totals = new Map([[root.hash, root.totalWork]])
  let head = root
  for (const h of headers) {
    const parent = totals.get(h.parentHash)
    if (parent === undefined || totals.has(h.hash)) continue
    const total = parent + h.work
    totals.set(h.hash, total)
    if (h.parentHash === head.hash || prefersHead(total, head.totalWork)) head = { hash: h.hash, totalWork: total }
  }
  return head
}

/** A random block tree in arrival order: each block's parent is the root or an earlier block. */
const trees = fc
  .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })), { minLength: 0, maxLength: 60 })
  .map((specs) =>
    specs.map(
      ([p, w], i): WorkHeader => ({
        hash: `b${i}`,
        parentHash: i === 0 || p % (i + 1) === i ? ROOT.hash : `b${p % i}`,
        // few distinct works, so ties are common
        work: BigInt(w) * 10n,
      }),
    ),
  )

describe('work', () => {
  it('is 2^256 / (target + 1): one attempt at the top target, 2^32 at 2^224 − 1', () => {
    expect(workOf(TWO_256 - 1n)).toBe(1n)
    expect(workOf((1n << 224n) - 1n)).toBe(1n << 32n)
    expect(workOf(0xffffn << 208n)).toBe(0x100010001n) // Bitcoin's difficulty-1 target: 4295032833
    expect(() => workOf(0n)).toThrow(/target/)
    expect(() => workOf(TWO_256)).toThrow(/target/)
  })

  it('falls as the target rises, and never overstates the attempts (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: TWO_256 - 2n }), (t) => {
        expect(workOf(t + 1n)).toBeLessThanOrEqual(workOf(t))
        expect(workOf(t) * (t + 1n)).toBeLessThanOrEqual(TWO_256)
        expect((workOf(t) + 1n) * (t + 1n)).toBeGreaterThan(TWO_256)
      }),
      { numRuns: 500, seed: 68 },
    )
  })
})

describe('heaviest-total-work fork choice', () => {
  it('takes the heavier branch over the longer one', () => {
    const long = ['a1', 'a2', 'a3', 'a4'].map((h, i) => ({ hash: h, parentHash: i ? `a${i}` : 'g', work: 10n }))
    const heavy = [{ hash: 'b1', parentHash: 'g', work: 41n }]
    expect(heaviestHead(ROOT, [...long, ...heavy]).head).toEqual({ hash: 'b1', totalWork: 42n })
    // one unit less, and the long branch keeps the head
    expect(heaviestHead(ROOT, [...long, { ...heavy[0]!, work: 40n }]).head.hash).toBe('a4')
  })

  it('breaks a tie by first seen, whichever branch that is', () => {
    const a = { hash: 'a', parentHash: 'g', work: 10n }
    const b = { hash: 'b', parentHash: 'g', work: 10n }
    expect(heaviestHead(ROOT, [a, b]).head.hash).toBe('a')
    expect(heaviestHead(ROOT, [b, a]).head.hash).toBe('b')
    expect(prefersHead(11n, 11n)).toBe(false)
  })

  it('leaves out headers whose parent it has not seen, and counts a repeat once', () => {
    const r = heaviestHead(ROOT, [
      { hash: 'x', parentHash: 'unknown', work: 1000n },
      { hash: 'a', parentHash: 'g', work: 5n },
      { hash: 'a', parentHash: 'g', work: 500n },
    ])
    expect(r.orphans).toEqual(['x'])
    expect(r.head).toEqual({ hash: 'a', totalWork: 6n })
  })

  it('names the block with the most total work, the first seen of equals (property)', () => {
    fc.assert(
      fc.property(trees, (headers) => {
        const { head, totals } = heaviestHead(ROOT, headers)
        // total work by walking each block's ancestry, independently of the implementation
        const byHash = new Map(headers.map((h) => [h.hash, h]))
        const total = (hash: string): bigint => {
          const h = byHash.get(hash)
          return h ? h.work + total(h.parentHash) : ROOT.totalWork
        }
        const order = [ROOT.hash, ...headers.map((h) => h.hash)]
        const max = order.reduce((m, h) => (total(h) > m ? total(h) : m), 0n)
        expect(head).toEqual({ hash: order.find((h) => total(h) === max), totalWork: max })
        for (const [hash, t] of totals) expect(t).toBe(total(hash))
      }),
      { numRuns: 300, seed: 68 },
    )
  })

  it('ends where a node folding prefersHead over the arrivals ends (property)', () => {
    fc.assert(
      fc.property(trees, (headers) => {
        expect(foldArrivals(ROOT, headers)).toEqual(heaviestHead(ROOT, headers).head)
      }),
      { numRuns: 300, seed: 68 },
    )
  })
})
