/**
 * Nibble paths of the Merkle Patricia trie, shared by the block's one-pass account trie
 * (`batch-trie.ts`) and the ordered transactions/receipts tries (`ordered-trie.ts`).
 */

/** The key's bytes as nibbles (high half first). */
export function toNibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2)
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = (bytes[i] as number) >> 4
    out[2 * i + 1] = (bytes[i] as number) & 15
  }
  return out
}

/** Lexicographic order of byte (or nibble) strings; a prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/** Hex-prefix encoding of a nibble path (Yellow Paper appendix C). */
export function encodePath(nibbles: Uint8Array, leaf: boolean): Uint8Array {
  const odd = nibbles.length % 2
  const out = new Uint8Array(((nibbles.length - odd) >> 1) + 1)
  out[0] = ((leaf ? 2 : 0) + odd) << 4
  let i = 0
  if (odd) {
    out[0] = (out[0] as number) | (nibbles[0] as number)
    i = 1
  }
  for (let o = 1; i < nibbles.length; i += 2, o++) out[o] = ((nibbles[i] as number) << 4) | (nibbles[i + 1] as number)
  return out
}

/** The inverse of {@link encodePath}. */
export function decodePath(encoded: Uint8Array): { path: Uint8Array; leaf: boolean } {
  const flag = (encoded[0] as number) >> 4
  const odd = flag & 1
  const path = new Uint8Array((encoded.length - 1) * 2 + odd)
  let o = 0
  if (odd) path[o++] = (encoded[0] as number) & 15
  for (let i = 1; i < encoded.length; i++) {
    path[o++] = (encoded[i] as number) >> 4
    path[o++] = (encoded[i] as number) & 15
  }
  return { path, leaf: flag >= 2 }
}
