import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodedLength, RlpArena, type RlpItem } from '../../src/state/rlp-arena.ts'

// Byte strings of every length class (a single byte under 0x80, short, long, and over the arena's
// 4,096-byte limit), nested lists up to three deep (trie nodes with inlined children, receipts).
const bytesArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 1 }),
  fc.uint8Array({ minLength: 2, maxLength: 60 }),
  fc.uint8Array({ minLength: 56, maxLength: 600 }),
  fc.uint8Array({ minLength: 4090, maxLength: 4200 }),
)
const listArb = (of: fc.Arbitrary<RlpItem>) => fc.array(of, { maxLength: 17 })
const itemArb: fc.Arbitrary<RlpItem> = fc.oneof(
  bytesArb,
  listArb(fc.uint8Array({ maxLength: 40 })),
  listArb(fc.oneof(fc.uint8Array({ maxLength: 70 }), listArb(fc.uint8Array({ maxLength: 8 })))),
)

describe('RlpArena', () => {
  it('encodes as RLP.encode does, and each kept view stays valid across chunks', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 40 }), (items) => {
        // A small chunk, so that the run fills several.
        const arena = new RlpArena({ chunkSize: 1024 })
        const views = items.map((item) => arena.encode(item))
        items.forEach((item, i) => {
          const expected = RLP.encode(item)
          expect(views[i]).toEqual(expected)
          expect(encodedLength(item)).toBe(expected.length)
        })
      }),
      { numRuns: 150 },
    )
  })

  it('in scratch mode, gives each encoding right until the next one (one chunk, written over)', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 40 }), (items) => {
        const arena = new RlpArena({ chunkSize: 1024, scratch: true })
        for (const item of items) expect(arena.encode(item)).toEqual(RLP.encode(item))
      }),
      { numRuns: 150 },
    )
  })

  it('writes kept encodings back to back in one chunk until it is full', () => {
    const arena = new RlpArena({ chunkSize: 100 })
    const a = arena.encode(new Uint8Array(40).fill(1))
    const b = arena.encode(new Uint8Array(40).fill(2))
    const c = arena.encode(new Uint8Array(40).fill(3)) // does not fit: a new chunk
    expect(a.buffer).toBe(b.buffer)
    expect(b.byteOffset).toBe(a.byteOffset + a.length)
    expect(c.buffer).not.toBe(a.buffer)
    expect([a[1], b[1], c[1]]).toEqual([1, 2, 3])
  })

  it('puts a type byte before the RLP, in a chunk or (past its limit) in an array of its own', () => {
    const arena = new RlpArena()
    for (const item of [[new Uint8Array(300).fill(7), []], [new Uint8Array(5000).fill(9)]]) {
      const rlp = RLP.encode(item)
      expect(arena.encode(item, 2)).toEqual(Uint8Array.of(2, ...rlp))
    }
  })
})
