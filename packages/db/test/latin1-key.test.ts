import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { latin1Bytes, latin1Key } from '../src/latin1-key.ts'

describe('latin1Key', () => {
  it("is Buffer's latin1 decoding for any bytes (short keys take another way), at any offset", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(16), (b, head) => {
        const backing = new Uint8Array(head + b.length)
        backing.set(b, head)
        const view = backing.subarray(head)
        const key = latin1Key(view)
        expect(key).toBe(Buffer.from(b).toString('latin1'))
        expect(latin1Bytes(key)).toEqual(b)
      }),
      { numRuns: 2000 },
    )
  })

  it('orders keys as their bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const byKey = latin1Key(a) < latin1Key(b) ? -1 : latin1Key(a) > latin1Key(b) ? 1 : 0
        expect(byKey).toBe(Math.sign(Buffer.compare(a, b)))
      }),
    )
  })
})
