/**
 * The RLP length prefix of an item whose payload is `length` bytes: `base` 0x80 for a string,
 * 0xc0 for a list (one byte up to 55 bytes of payload, else the length's own bytes after it).
 */
export function rlpLengthPrefix(base: 0x80 | 0xc0, length: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(base + length)
  const bytes: number[] = []
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256)
  return Uint8Array.of(base + 55 + bytes.length, ...bytes)
}
