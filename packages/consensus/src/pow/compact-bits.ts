/**
 * Bitcoin's compact target encoding (`nBits`): a 256-bit target as a uint32, one byte of size (the
 * target's length in bytes) and a three-byte mantissa whose top bit is a sign. Bit for bit as
 * Bitcoin's `arith_uint256::SetCompact` / `GetCompact`, which ASERT's specification and its test
 * vectors use: a target is rounded down to its compact form before a block's hash is compared
 * with it, so every node holds the same target.
 *
 * @example
 * targetFromBits(0x1d00ffff) // 0xffff << 208: Bitcoin's (and BCH's) proof-of-work limit
 * bitsFromTarget(2n ** 256n - 1n) // 0x2100ffff
 */
import { CairnError } from '@cairn/utils'
import { PowErrorCode } from './errors.ts'

/** 2^256: one more than the largest target. */
export const TWO_256 = 1n << 256n

/** What compact `bits` decode to, with Bitcoin's two flags (a target is usable only with neither). */
export interface DecodedBits {
  target: bigint
  /** The mantissa's sign bit is set on a non-zero mantissa. */
  negative: boolean
  /** The value does not fit 256 bits. */
  overflow: boolean
}

/** `SetCompact`: the value of `bits` and its flags (no check: see {@link targetFromBits}). */
export function decodeBits(bits: number): DecodedBits {
  assertUint32(bits, 'bits')
  const size = bits >>> 24
  let word = bits & 0x007fffff
  let target: bigint
  if (size <= 3) {
    word >>>= 8 * (3 - size)
    target = BigInt(word)
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3))
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32))
  return { target, negative, overflow }
}

/**
 * The target `bits` encode, refused when it is not usable as one: negative, overflowing, zero, or
 * (given `powLimit`) easier than the chain allows.
 * @throws CairnError `CONSENSUS_POW_INVALID_BITS`
 */
export function targetFromBits(bits: number, powLimit?: bigint): bigint {
  const { target, negative, overflow } = decodeBits(bits)
  const bad = (why: string) =>
    new CairnError(PowErrorCode.INVALID_BITS, `compact bits ${formatBits(bits)} ${why}`, {
      fault: 'caller',
      hint: 'compact bits are 0xSSMMMMMM: SS the size in bytes, MMMMMM a mantissa below 0x800000, e.g. 0x1d00ffff',
    })
  if (negative) throw bad('are negative (the mantissa has its sign bit 0x00800000 set)')
  if (overflow) throw bad('overflow 256 bits')
  if (target === 0n) throw bad('encode a zero target')
  if (powLimit !== undefined && target > powLimit) {
    throw bad(`encode a target above the proof-of-work limit ${formatBits(bitsFromTarget(powLimit))}`)
  }
  return target
}

/** `GetCompact`: the compact form of a target in [0, 2^256) (rounded down to a 23-bit mantissa). */
export function bitsFromTarget(target: bigint): number {
  if (target < 0n || target >= TWO_256) {
    throw new CairnError(PowErrorCode.INVALID_BITS, 'a target must be in [0, 2^256)', { fault: 'caller' })
  }
  let size = byteLength(target)
  let compact = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)))
  if (compact & 0x00800000) {
    compact >>>= 8
    size += 1
  }
  return (compact | (size << 24)) >>> 0
}

/** The target as its compact form would give it back (what a block's hash is compared with). */
export function roundTarget(target: bigint): bigint {
  return decodeBits(bitsFromTarget(target)).target
}

/** `0x1d00ffff`: eight hex digits, as the ASERT test vectors and `cairn pow asert` write bits. */
export function formatBits(bits: number): string {
  return `0x${(bits >>> 0).toString(16).padStart(8, '0')}`
}

/**
 * Compact bits from text: `0x` and one to eight hex digits, or a decimal uint32.
 * @throws CairnError `CONSENSUS_POW_INVALID_BITS` naming `what` (e.g. `--anchor-bits`)
 */
export function parseBits(text: string, what = 'bits'): number {
  const s = text.trim()
  const value = /^0x[0-9a-f]{1,8}$/i.test(s) ? Number.parseInt(s.slice(2), 16) : /^\d{1,10}$/.test(s) ? Number(s) : NaN
  if (!Number.isInteger(value) || value > 0xffffffff) {
    throw new CairnError(PowErrorCode.INVALID_BITS, `${what}: ${JSON.stringify(s.slice(0, 40))} is not compact bits`, {
      fault: 'caller',
      hint: 'give 0x and up to eight hex digits (e.g. 0x1d00ffff) or a decimal uint32',
    })
  }
  return value
}

function byteLength(n: bigint): number {
  return n === 0n ? 0 : Math.ceil(n.toString(16).length / 2)
}

function assertUint32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new CairnError(PowErrorCode.INVALID_BITS, `${what} must be a uint32, got ${String(n).slice(0, 40)}`, {
      fault: 'caller',
    })
  }
}
