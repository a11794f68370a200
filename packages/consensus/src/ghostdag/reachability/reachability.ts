import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from '../errors.ts'
import type { BlockHash } from '../hash.ts'
import { type Interval, MAXIMAL_INTERVAL } from './interval.ts'
import { isChainAncestorOf, isDagAncestorOf, isStrictChainAncestorOf, searchDescendant } from './queries.ts'
import type { ReachabilityStore } from './store.ts'
import { addTreeBlock, advanceReindexRoot, DEFAULT_REINDEX_PARAMS, type ReindexParams } from './tree.ts'

/** What GhostDAG asks of reachability. */
export interface ReachabilityService {
  /** `a` is in the past of `b`, or is `b`. */
  isDagAncestorOf(a: BlockHash, b: BlockHash): boolean
  /** `a` is on `b`'s selected-parent chain, or is `b`. */
  isChainAncestorOf(a: BlockHash, b: BlockHash): boolean
}

export interface ReachabilityIndexOptions {
  reindex?: ReindexParams
  /** The space the root's interval spans (tests shrink it to force reindexing); the whole space by default. */
  capacity?: Interval
}

/**
 * The reachability index (Kaspa's): intervals over the selected-parent tree answer "is A a chain
 * ancestor of B" with one comparison; each block's future covering set (blocks that merged it,
 * ordered by interval) answers "is A in the past of B" with a binary search. Blocks are added in
 * a topological order, each with its selected parent and its mergeset.
 */
export class ReachabilityIndex implements ReachabilityService {
  readonly #store: ReachabilityStore
  readonly #params: ReindexParams
  readonly #capacity: Interval

  constructor(opts: ReachabilityIndexOptions, modules: { store: ReachabilityStore }) {
    this.#store = modules.store
    this.#params = opts.reindex ?? DEFAULT_REINDEX_PARAMS
    this.#capacity = opts.capacity ?? MAXIMAL_INTERVAL
  }

  get store(): ReachabilityStore {
    return this.#store
  }

  /** Makes `root` (the genesis) the root of the tree, with the whole space. Idempotent. */
  init(root: BlockHash): void {
    this.#store.init(root, this.#capacity)
  }

  /**
   * Adds `block`: a tree child of `selectedParent`, and in the future covering set of every block
   * of its mergeset (the selected parent excluded).
   */
  addBlock(block: BlockHash, selectedParent: BlockHash, mergesetWithoutSelectedParent: Iterable<BlockHash>): void {
    addTreeBlock(this.#store, block, selectedParent, this.#params)
    for (const merged of mergesetWithoutSelectedParent) {
      const set = this.#store.getFutureCoveringSet(merged)
      const r = searchDescendant(this.#store, set, block)
      // A covering block above `block` would put `merged` in the selected parent's past.
      if (r.found)
        throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${merged} is not in the mergeset of ${block}`)
      this.#store.insertFutureCoveringItem(merged, block, r.index)
    }
  }

  /** The virtual selected parent moved to (or a new selected tip is) `hint`: the reindex root follows it. */
  hintVirtualSelectedParent(hint: BlockHash): void {
    advanceReindexRoot(this.#store, hint, this.#params)
  }

  isDagAncestorOf(a: BlockHash, b: BlockHash): boolean {
    return isDagAncestorOf(this.#store, a, b)
  }

  isChainAncestorOf(a: BlockHash, b: BlockHash): boolean {
    return isChainAncestorOf(this.#store, a, b)
  }

  isStrictChainAncestorOf(a: BlockHash, b: BlockHash): boolean {
    return isStrictChainAncestorOf(this.#store, a, b)
  }
}
