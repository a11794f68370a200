// Compact targets (nBits) as Bitcoin's SetCompact/GetCompact: the cases Bitcoin Core's
// arith_uint256 tests pin (zero mantissas, the sign bit, sizes below three bytes, overflow), the
// round trip, and parsing from the command line.
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bitsFromTarget,
  decodeBits,
  formatBits,
  parseBits,
  roundTarget,
  TWO_256,
  targetFromBits,
} from '../../src/pow/compact-bits.ts'
import { PowErrorCode } from '../../src/pow/errors.ts'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isCairnError(err) ? err.code : `not a CairnError: ${String(err)}`
  }
  return undefined
}

describe('compact bits', () => {
  it.each([
    // bits, value, negative, overflow, its compact form back
    [0x00000000, 0n, false, false, 0x00000000],
    [0x00123456, 0n, false, false, 0x00000000],
    [0x01003456, 0n, false, false, 0x00000000],
    [0x02000056, 0n, false, false, 0x00000000],
    [0x03000000, 0n, false, false, 0x00000000],
    [0x04000000, 0n, false, false, 0x00000000],
    [0x00923456, 0n, false, false, 0x00000000],
    [0x01803456, 0n, false, false, 0x00000000],
    [0x02800056, 0n, false, false, 0x00000000],
    [0x03800000, 0n, false, false, 0x00000000],
    [0x04800000, 0n, false, false, 0x00000000],
    [0x01123456, 0x12n, false, false, 0x01120000],
    [0x01fedcba, 0x7en, true, false, 0x01120000 /* unused */],
    [0x02123456, 0x1234n, false, false, 0x02123400],
    [0x03123456, 0x123456n, false, false, 0x03123456],
    [0x04123456, 0x12345600n, false, false, 0x04123456],
    [0x04923456, 0x12345600n, true, false, 0x04123456 /* unused */],
    [0x05009234, 0x92340000n, false, false, 0x05009234],
    [0x20123456, 0x123456n << 232n, false, false, 0x20123456],
    [0x1d00ffff, 0xffffn << 208n, false, false, 0x1d00ffff],
    [0x2100ffff, 0xffffn << 240n, false, false, 0x2100ffff],
    [0xff123456, 0x123456n << BigInt(8 * (0xff - 3)), false, true, 0],
    [0x22000100, 0x100n << 248n, false, true, 0],
    [0x2200ff00, 0xff00n << 248n, false, true, 0],
  ])('%i decodes as Bitcoin does', (bits, value, negative, overflow, back) => {
    const d = decodeBits(bits)
    expect(d).toEqual({ target: value, negative, overflow })
    if (!negative && !overflow) expect(formatBits(bitsFromTarget(value))).toBe(formatBits(back))
  })

  it('round-trips every usable encoding (property) and rounds a target down to its compact form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: TWO_256 - 1n }), (target) => {
        const rounded = roundTarget(target)
        expect(rounded).toBeLessThanOrEqual(target)
        expect(rounded).toBeGreaterThan(0n)
        // at most the 2^-15 a 16-bit-and-more mantissa loses
        expect((target - rounded) * 2n ** 15n).toBeLessThanOrEqual(target)
        const bits = bitsFromTarget(target)
        expect(bitsFromTarget(rounded)).toBe(bits)
        expect(targetFromBits(bits)).toBe(rounded)
      }),
      { numRuns: 2000, seed: 68 },
    )
    expect(bitsFromTarget(TWO_256 - 1n)).toBe(0x2100ffff)
  })

  it('refuses unusable targets with CONSENSUS_POW_INVALID_BITS', () => {
    expect(codeOf(() => targetFromBits(0x1d80ffff))).toBe(PowErrorCode.INVALID_BITS) // negative
    expect(codeOf(() => targetFromBits(0x22000100))).toBe(PowErrorCode.INVALID_BITS) // overflow
    expect(codeOf(() => targetFromBits(0x1d000000))).toBe(PowErrorCode.INVALID_BITS) // zero
    expect(codeOf(() => targetFromBits(0x1d010000, targetFromBits(0x1d00ffff)))).toBe(PowErrorCode.INVALID_BITS)
    expect(codeOf(() => targetFromBits(2 ** 32))).toBe(PowErrorCode.INVALID_BITS)
    expect(codeOf(() => bitsFromTarget(TWO_256))).toBe(PowErrorCode.INVALID_BITS)
    expect(codeOf(() => bitsFromTarget(-1n))).toBe(PowErrorCode.INVALID_BITS)
  })

  it('parses 0x-hex and decimal, and names what it could not parse', () => {
    expect(parseBits('0x1d00ffff')).toBe(0x1d00ffff)
    expect(parseBits('0X1D00FFFF')).toBe(0x1d00ffff)
    expect(parseBits('486604799')).toBe(0x1d00ffff)
    expect(parseBits('0x1')).toBe(1)
    for (const bad of ['', '0x', '0x1d00ffff0', '1d00ffff', '-1', '4294967296', 'zz']) {
      try {
        parseBits(bad, '--anchor-bits')
        expect.unreachable(bad)
      } catch (err) {
        expect(isCairnError(err, PowErrorCode.INVALID_BITS)).toBe(true)
        expect((err as Error).message).toContain('--anchor-bits')
      }
    }
    // the echo of bad input is bounded
    try {
      parseBits('x'.repeat(10_000))
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(200)
    }
  })
})
