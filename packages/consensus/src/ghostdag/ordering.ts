import { type BlockHash, compareHashes } from './hash.ts'

/** A block as GhostDAG orders it: by blue work, then by hash (Kaspa's `SortableBlock`). */
export interface SortableBlock {
  hash: BlockHash
  blueWork: bigint
}

/** Kaspa's `SortableBlock::cmp`: blue work ascending, ties by hash bytes ascending. */
export function compareSortable(a: SortableBlock, b: SortableBlock): number {
  if (a.blueWork !== b.blueWork) return a.blueWork < b.blueWork ? -1 : 1
  return compareHashes(a.hash, b.hash)
}

/** Blocks in ascending (blue work, hash) order, as Kaspa's `sort_blocks`. */
export function sortBlocks(blocks: Iterable<BlockHash>, blueWork: (hash: BlockHash) => bigint): BlockHash[] {
  const keyed = [...blocks].map((hash) => ({ hash, blueWork: blueWork(hash) }))
  keyed.sort(compareSortable)
  return keyed.map((b) => b.hash)
}
