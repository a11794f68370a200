/**
 * Heaviest-total-work fork choice, as a pure function over headers: the head is the block with the
 * most total work from the root (the sum of its ancestors' and its own work), not the longest
 * chain, and of blocks with equal work the one seen first. The engine's `preferHead(candidate,
 * current)` is {@link prefersHead} on the two blocks' total work (stored as their total difficulty,
 * since a header's difficulty is its work): a candidate replaces the head only with strictly more,
 * so a tie keeps what was seen first. {@link heaviestHead} is the same rule over a whole block tree
 * at once; the property test checks that folding {@link prefersHead} over arrivals, as a node
 * does, ends on the head it names.
 *
 * No ommers (uncles): Ethereum paid them to compensate the stale blocks of 13-second blocks under
 * GHOST; here stale blocks earn nothing and add no work, and at the spacing this chain runs
 * (docs/consensus/pow.md) stale rates are low enough that counting them would only add a field
 * to every header and a rule to every node. GhostDAG (issue 69) is the design that keeps parallel
 * blocks.
 */

import { bytesToHex } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'

/** A header as fork choice sees it: its identity, its parent's, and its own work. */
export interface WorkHeader {
  hash: string
  parentHash: string
  /** The block's work (its header's `difficulty`: the work of its target). */
  work: bigint
}

/** A block and its total work from the root. */
export interface WorkTip {
  hash: string
  totalWork: bigint
}

/** The outcome of {@link heaviestHead}. */
export interface ForkChoice {
  head: WorkTip
  /** Every connected block's total work, the root included. */
  totals: Map<string, bigint>
  /** Headers whose parent is neither the root nor a header seen before them (not candidates). */
  orphans: string[]
}

/** The incremental rule: a candidate becomes the head only with strictly more total work (a tie keeps the head). */
export function prefersHead(candidateTotalWork: bigint, currentTotalWork: bigint): boolean {
  return candidateTotalWork > currentTotalWork
}

/** A header's identity and work, from an Ethereum header whose difficulty is its work. */
export function workHeader(header: BlockHeader): WorkHeader {
  return { hash: bytesToHex(header.hash()), parentHash: bytesToHex(header.parentHash), work: header.difficulty }
}

/**
 * The head of the tree grown from `root` by `headers`, given in the order they were seen (a
 * parent before its children, as an importer accepts them): the most total work, ties to the
 * first seen. A header whose parent is unknown when it arrives is an orphan and left out.
 */
export function heaviestHead(root: WorkTip, headers: readonly WorkHeader[]): ForkChoice {
  const totals = new Map<string, bigint>([[root.hash, root.totalWork]])
  const orphans: string[] = []
  for (const h of headers) {
    if (totals.has(h.hash)) continue // seen before: its first arrival counts
    const parent = totals.get(h.parentHash)
    if (parent === undefined) orphans.push(h.hash)
    else totals.set(h.hash, parent + h.work)
  }
  // The most total work; a Map iterates in insertion (arrival) order, so the first of equals wins.
  let head: WorkTip = root
  for (const [hash, totalWork] of totals) if (totalWork > head.totalWork) head = { hash, totalWork }
  return { head, totals, orphans }
}
