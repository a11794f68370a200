import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from '../errors.ts'
import type { BlockHash } from '../hash.ts'
import { isEmpty, splitHalf } from './interval.ts'
import { isChainAncestorOf, nextChainAncestor } from './queries.ts'
import { ReindexContext, remainingAfter } from './reindex.ts'
import type { ReachabilityStore } from './store.ts'

/** How far behind the selected tip the reindex root stays, and the slack kept per chain block (Kaspa's defaults). */
export interface ReindexParams {
  depth: number
  slack: number
}

export const DEFAULT_REINDEX_PARAMS: ReindexParams = { depth: 100, slack: 1 << 14 }

/**
 * Adds `block` as the last tree child of `parent`: the first half of the space left after the
 * parent's children, or, when none is left, an empty interval and a reindex.
 */
export function addTreeBlock(
  store: ReachabilityStore,
  block: BlockHash,
  parent: BlockHash,
  params: ReindexParams,
): void {
  const remaining = remainingAfter(store, parent)
  store.appendChild(parent, block)
  const height = store.getHeight(parent) + 1
  if (isEmpty(remaining)) {
    // The reindex relies on the new block's empty interval sitting exactly at the end of the capacity.
    store.insert(block, parent, remaining, height)
    new ReindexContext(store, params.slack).reindexIntervals(block, store.getReindexRoot())
  } else {
    store.insert(block, parent, splitHalf(remaining)[0], height)
  }
}

/** The latest tree ancestor of `block` that is also one of `reindexRoot`. */
function commonTreeAncestor(store: ReachabilityStore, block: BlockHash, reindexRoot: BlockHash): BlockHash {
  let current = block
  while (!isChainAncestorOf(store, current, reindexRoot)) {
    const parent = store.getParent(current)
    if (parent === undefined) throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${block} has no common root`)
    current = parent
  }
  return current
}

/**
 * Moves the reindex root towards `hint` (the virtual selected parent, or a new selected tip) so it
 * stays `depth` chain blocks behind it; on another chain only once that chain leads by `slack`
 * (so alternating reorgs cannot make it swing). Concentrates the interval space on the way.
 */
export function advanceReindexRoot(store: ReachabilityStore, hint: BlockHash, params: ReindexParams): void {
  const current = store.getReindexRoot()
  const hintHeight = store.getHeight(hint)
  let ancestor = current
  let next = current
  if (!isChainAncestorOf(store, current, hint)) {
    const currentHeight = store.getHeight(current)
    if (hintHeight < currentHeight || hintHeight - currentHeight < params.slack) return
    ancestor = commonTreeAncestor(store, hint, current)
    next = ancestor
  }
  for (;;) {
    if (next === hint) break
    const child = nextChainAncestor(store, hint, next)
    if (hintHeight - store.getHeight(child) < params.depth) break
    next = child
  }
  if (next === current) return
  while (ancestor !== next) {
    const child = nextChainAncestor(store, next, ancestor)
    new ReindexContext(store, params.slack).concentrateInterval(ancestor, child, child === next)
    ancestor = child
  }
  store.setReindexRoot(next)
}
