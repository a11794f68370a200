import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from '../errors.ts'
import type { BlockHash } from '../hash.ts'
import { contains, strictlyContains } from './interval.ts'
import type { ReachabilityStoreReader } from './store.ts'

/** `a` is a strict tree (selected-chain) ancestor of `b`. */
export function isStrictChainAncestorOf(store: ReachabilityStoreReader, a: BlockHash, b: BlockHash): boolean {
  return strictlyContains(store.getInterval(a), store.getInterval(b))
}

/** `a` is a tree (selected-chain) ancestor of `b`, or `b` itself. One interval comparison. */
export function isChainAncestorOf(store: ReachabilityStoreReader, a: BlockHash, b: BlockHash): boolean {
  return contains(store.getInterval(a), store.getInterval(b))
}

/**
 * `a` is in the past of `b`, or is `b`: `a` is a chain ancestor of `b`, or one of `a`'s future
 * covering set is. O(log |future covering set of a|).
 */
export function isDagAncestorOf(store: ReachabilityStoreReader, a: BlockHash, b: BlockHash): boolean {
  if (isChainAncestorOf(store, a, b)) return true
  return searchDescendant(store, store.getFutureCoveringSet(a), b).found
}

/** Where a binary search over interval-ordered blocks for a chain ancestor of `descendant` ended. */
export interface SearchResult {
  found: boolean
  /** The ancestor's index when found, else where `descendant` would be inserted. */
  index: number
}

/**
 * Searches interval-ordered (disjoint) blocks for the one whose subtree holds `descendant`: the
 * last block starting at or before `descendant`'s interval end is the only candidate.
 */
export function searchDescendant(
  store: ReachabilityStoreReader,
  ordered: readonly BlockHash[],
  descendant: BlockHash,
): SearchResult {
  const point = store.getInterval(descendant).end
  let lo = 0
  let hi = ordered.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const start = store.getInterval(ordered[mid]!).start
    if (start === point) return { found: true, index: mid }
    if (start < point) lo = mid + 1
    else hi = mid
  }
  if (lo > 0 && isChainAncestorOf(store, ordered[lo - 1]!, descendant)) return { found: true, index: lo - 1 }
  return { found: false, index: lo }
}

/** The tree child of `ancestor` on the chain to `descendant` (no check that it is an ancestor). */
export function nextChainAncestor(
  store: ReachabilityStoreReader,
  descendant: BlockHash,
  ancestor: BlockHash,
): BlockHash {
  const children = store.getChildren(ancestor)
  const r = searchDescendant(store, children, descendant)
  if (!r.found) {
    throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${ancestor} has no tree child above ${descendant}`)
  }
  return children[r.index]!
}
