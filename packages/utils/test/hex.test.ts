import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  equalsBytes,
  hexToBytes,
  toQuantity,
  uintToBytes,
} from '../src/index.ts'

describe('hex', () => {
  it('round-trips any bytes through hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(equalsBytes(hexToBytes(bytesToHex(b)), b)).toBe(true)
      }),
    )
  })
  it('encodes any bytes (any length, any offset into a larger buffer) as the per-byte table does', () => {
    const reference = (b: Uint8Array) => `0x${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.nat(40), (b, head, tail) => {
        const backing = new Uint8Array(head + b.length + tail).fill(0xee)
        backing.set(b, head)
        const view = backing.subarray(head, head + b.length)
        expect(bytesToHex(view)).toBe(reference(b))
        expect(bytesToHex(b)).toBe(reference(b))
      }),
      { numRuns: 1000 },
    )
  })
  it('decodes any string as Buffer.from(hex) does (the table path is only a faster way)', () => {
    const reference = (hex: string) => {
      let h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex
      if (h.length % 2 === 1) h = `0${h}`
      return Uint8Array.from(Buffer.from(h, 'hex'))
    }
    const digits = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''))
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFxXg Z\u00e9\u0100'.split(''))
    fc.assert(
      fc.property(
        fc.boolean(),
        // Up to 400 digits: the table path (≤ 128) and the native one (raw transactions, code).
        fc.oneof(fc.array(digits, { maxLength: 400 }), fc.array(chars, { maxLength: 400 })),
        (prefixed, cs) => {
          const hex = `${prefixed ? '0x' : ''}${cs.join('')}`
          const out = hexToBytes(hex)
          expect(out).toEqual(reference(hex))
          // Its own memory: neither a view into Buffer's shared pool nor a Buffer.
          expect(out.constructor).toBe(Uint8Array)
          expect(out.buffer.byteLength).toBe(out.length)
        },
      ),
      { numRuns: 2000 },
    )
  })
  it('encodes quantities without leading zeros', () => {
    expect(toQuantity(0n)).toBe('0x0')
    expect(toQuantity(255)).toBe('0xff')
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
        (n) => BigInt(toQuantity(n)) === n && !/^0x0./.test(toQuantity(n)),
      ),
    )
  })
  it('encodes fixed-width integers big-endian', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        const b = uintToBytes(n, 8)
        return b.length === 8 && bytesToBigInt(b) === n
      }),
    )
    expect(concatBytes(new Uint8Array([1]), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]))
  })
  it('reads any byte string as its big-endian value, whatever its length and offset (each fast path against the hex reading)', () => {
    const viaHex = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 7 }), (bytes, offset) => {
        // A view into a larger buffer at an odd offset, as slices of RLP and memory are.
        const backing = new Uint8Array(offset + bytes.length + 3)
        backing.set(bytes, offset)
        const view = backing.subarray(offset, offset + bytes.length)
        return bytesToBigInt(view) === viaHex(bytes) && bytesToBigInt(bytes) === viaHex(bytes)
      }),
      { numRuns: 2000 },
    )
    // Every length of the chunked path at its extremes: all ones, and a single top bit.
    for (let n = 1; n <= 48; n++) {
      expect(bytesToBigInt(new Uint8Array(n).fill(0xff))).toBe((1n << BigInt(8 * n)) - 1n)
      const top = new Uint8Array(n)
      top[0] = 0x80
      expect(bytesToBigInt(top)).toBe(1n << BigInt(8 * n - 1))
    }
  })
})
