import type { Hex } from 'viem'

/** A block hash: `0x` and 64 lowercase hex digits. */
export type BlockHash = Hex

/**
 * Kaspa's order of hashes: the 32 bytes compared lexicographically (`Hash([u8; 32])` derives
 * `Ord`). For `0x`-prefixed lowercase hex of equal length, string order is that byte order.
 */
export function compareHashes(a: BlockHash, b: BlockHash): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A hash from its 32 bytes. */
export function hashFromBytes(bytes: Uint8Array): BlockHash {
  let hex = '0x'
  for (const b of bytes) hex += b.toString(16).padStart(2, '0')
  return hex as BlockHash
}

/**
 * The hash Kaspa's test DAGs give a block id: its ASCII bytes right-padded with zeros to 32 bytes
 * (`string_to_hash` in rusty-kaspa's integration tests). Ids longer than 32 bytes are refused.
 */
export function hashFromTestId(id: string): BlockHash {
  const bytes = new Uint8Array(32)
  const ascii = new TextEncoder().encode(id)
  if (ascii.length > 32) throw new RangeError(`block id longer than 32 bytes (${ascii.length})`)
  bytes.set(ascii)
  return hashFromBytes(bytes)
}
