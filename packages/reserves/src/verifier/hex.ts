// Hex helpers for the verifier: kept here (not @cairn/utils) so the verifier bundle stays tiny and
// has no Node-only code paths.

/** Lower-case 0x-hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '0x'
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** Parses 0x-hex of exactly `length` bytes; null when malformed. */
export function fromHex(text: string, length: number): Uint8Array | null {
  if (typeof text !== 'string' || text.length !== 2 + length * 2 || !/^0x[0-9a-fA-F]*$/.test(text)) return null
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(text.slice(2 + i * 2, 4 + i * 2), 16)
  return out
}

/** True when both byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}
