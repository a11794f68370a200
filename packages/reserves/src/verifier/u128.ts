/**
 * Fixed-width balances: every balance and every sum is an unsigned 128-bit integer, encoded as 16
 * bytes big-endian. Anything negative, fractional or ≥ 2^128 is refused, never wrapped.
 */

/** Bytes of one encoded balance. */
export const U128_BYTES = 16

/** 2^128, the first value that does not fit. */
export const U128_LIMIT = 1n << 128n

/** True when `v` is an integer in [0, 2^128). */
export function isU128(v: bigint): boolean {
  return v >= 0n && v < U128_LIMIT
}

/**
 * Parses a canonical decimal amount ("0", "1234"; no sign, no leading zeros, no spaces, no
 * exponent). Returns null when the text is not one or does not fit in u128.
 */
export function parseAmount(text: string): bigint | null {
  if (text.length === 0 || text.length > 39) return null
  if (!/^(0|[1-9][0-9]*)$/.test(text)) return null
  const v = BigInt(text)
  return v < U128_LIMIT ? v : null
}

/** Writes `v` (which must be a u128) into `out` at `offset`, 16 bytes big-endian. */
export function writeU128(out: Uint8Array, offset: number, v: bigint): void {
  let x = v
  for (let i = U128_BYTES - 1; i >= 0; i--) {
    out[offset + i] = Number(x & 0xffn)
    x >>= 8n
  }
}

/** Reads 16 big-endian bytes at `offset` as a bigint. */
export function readU128(buf: Uint8Array, offset: number): bigint {
  let v = 0n
  for (let i = 0; i < U128_BYTES; i++) v = (v << 8n) | BigInt(buf[offset + i] ?? 0)
  return v
}

/** Concatenates balances (each a u128) in currency order: the `B` of the proof format. */
export function encodeBalances(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * U128_BYTES)
  values.forEach((v, i) => {
    writeU128(out, i * U128_BYTES, v)
  })
  return out
}

/** Splits a `B` byte string back into its balances. */
export function decodeBalances(buf: Uint8Array): bigint[] {
  const out: bigint[] = []
  for (let o = 0; o < buf.length; o += U128_BYTES) out.push(readU128(buf, o))
  return out
}

/**
 * Adds two `B` byte strings currency by currency into `out` (which may alias neither input).
 * Returns false when any sum reaches 2^128 (the caller must refuse the tree or the proof).
 */
export function addBalancesInto(a: Uint8Array, b: Uint8Array, out: Uint8Array): boolean {
  for (let base = 0; base < a.length; base += U128_BYTES) {
    let carry = 0
    for (let i = base + U128_BYTES - 1; i >= base; i--) {
      const s = (a[i] ?? 0) + (b[i] ?? 0) + carry
      out[i] = s & 0xff
      carry = s >> 8
    }
    if (carry !== 0) return false
  }
  return true
}
