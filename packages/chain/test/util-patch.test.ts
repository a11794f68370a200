// patches/@ethereumjs+util+*.patch turns bytes of 16 and more into hex through Buffer's native
// hex instead of @noble's per-byte loop (which appends one string per byte). Every @ethereumjs
// package hexes through it (account and storage cache keys, bytesToBigInt of balances and
// values, addresses), so its output is checked against @noble's format over random lengths, offsets into
// larger buffers and values, and against its errors for what is not bytes.
import { bytesToBigInt, bytesToHex, bytesToUnprefixedHex } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

/** Hex as @noble's loop writes it: two lower-case digits a byte. */
const nobleHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')

describe('the @ethereumjs/util hex patch', () => {
  it('is applied (npm ci runs patch-package)', () => {
    expect(String(bytesToUnprefixedHex)).toContain("toString('hex')")
  })

  it('gives @noble’s hex for any bytes, at any length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(33), fc.nat(33), (b, head, tail) => {
        const backing = new Uint8Array(head + b.length + tail).fill(0x5a)
        backing.set(b, head)
        const view = backing.subarray(head, head + b.length)
        expect(bytesToUnprefixedHex(view)).toBe(nobleHex(b))
        expect(bytesToHex(view)).toBe(`0x${nobleHex(b)}`)
        expect(bytesToBigInt(view)).toBe(b.length === 0 ? 0n : BigInt(`0x${nobleHex(b)}`))
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses what is not bytes as @noble does', () => {
    for (const bad of [[1, 2, 3], 'abc', 12, null, new Uint16Array(20)]) {
      expect(() => bytesToUnprefixedHex(bad as never)).toThrow()
    }
  })
})
