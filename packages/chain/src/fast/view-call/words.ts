/** 256-bit EVM words as non-negative bigints below 2^256, and their byte forms. */

export const WORD_MASK = (1n << 256n) - 1n
const SIGN_BIT = 1n << 255n
const TWO_256 = 1n << 256n

/** The signed value of a word (two's complement). */
export function toSigned(w: bigint): bigint {
  return w & SIGN_BIT ? w - TWO_256 : w
}

/** The word of a signed value (two's complement, mod 2^256). */
export function toWord(v: bigint): bigint {
  return v & WORD_MASK
}

/** `base ** exponent mod 2^256`, by squaring (the exponent may be any word). */
export function expWord(base: bigint, exponent: bigint): bigint {
  let result = 1n
  let b = base
  let e = exponent
  while (e > 0n) {
    if (e & 1n) result = (result * b) & WORD_MASK
    e >>= 1n
    if (e > 0n) b = (b * b) & WORD_MASK
  }
  return result
}

/** How many bytes the word needs (0 for 0): EXP's dynamic gas counts them. */
export function byteLength(w: bigint): number {
  return w === 0n ? 0 : Math.ceil(w.toString(16).length / 2)
}

/** SIGNEXTEND: extends the sign of the low `b + 1` bytes of `x` (b < 31), else `x`. */
export function signExtend(b: bigint, x: bigint): bigint {
  if (b >= 31n) return x
  const bit = b * 8n + 7n
  const mask = (1n << (bit + 1n)) - 1n
  return (x >> bit) & 1n ? x | (WORD_MASK ^ mask) : x & mask
}

const MASK_64 = (1n << 64n) - 1n

/** The word at `at` of `view` (32 bytes there; four 64-bit reads: a third of a hex round trip's time). */
export function readWord(view: DataView, at: number): bigint {
  return (
    (view.getBigUint64(at) << 192n) |
    (view.getBigUint64(at + 8) << 128n) |
    (view.getBigUint64(at + 16) << 64n) |
    view.getBigUint64(at + 24)
  )
}

/** Writes the word `w` at `at` of `view` (32 bytes there), big-endian. */
export function writeWord(view: DataView, at: number, w: bigint): void {
  view.setBigUint64(at, w >> 192n)
  view.setBigUint64(at + 8, (w >> 128n) & MASK_64)
  view.setBigUint64(at + 16, (w >> 64n) & MASK_64)
  view.setBigUint64(at + 24, w & MASK_64)
}

/** The 64 hex digits of a word. */
export function wordHex(w: bigint): string {
  return w.toString(16).padStart(64, '0')
}
