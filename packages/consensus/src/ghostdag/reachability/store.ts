import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from '../errors.ts'
import type { BlockHash } from '../hash.ts'
import type { Interval } from './interval.ts'

/**
 * The reachability index's data per block (Kaspa's reachability store): its place in the
 * selected-parent tree (parent, children in interval order, height, interval) and its future
 * covering set, plus the reindex root. Reads are synchronous; the engine backs it with the database.
 */
export interface ReachabilityStoreReader {
  has(hash: BlockHash): boolean
  getInterval(hash: BlockHash): Interval
  /** The tree parent (the selected parent); `undefined` for the root. */
  getParent(hash: BlockHash): BlockHash | undefined
  /** Tree children, ordered by interval. */
  getChildren(hash: BlockHash): readonly BlockHash[]
  getHeight(hash: BlockHash): number
  /** Blocks in the block's future, ordered by interval, whose tree subtrees cover the rest of its future. */
  getFutureCoveringSet(hash: BlockHash): readonly BlockHash[]
  getReindexRoot(): BlockHash
}

export interface ReachabilityStore extends ReachabilityStoreReader {
  /** The root of the tree, with the whole allocation space; it is also the first reindex root. */
  init(root: BlockHash, capacity: Interval): void
  insert(hash: BlockHash, parent: BlockHash, interval: Interval, height: number): void
  setInterval(hash: BlockHash, interval: Interval): void
  appendChild(parent: BlockHash, child: BlockHash): void
  insertFutureCoveringItem(hash: BlockHash, item: BlockHash, index: number): void
  setReindexRoot(hash: BlockHash): void
}

interface Entry {
  parent: BlockHash | undefined
  interval: Interval
  height: number
  children: BlockHash[]
  futureCoveringSet: BlockHash[]
}

/** The reachability data in a map: for tests, the CLI and the bench. */
export class MemoryReachabilityStore implements ReachabilityStore {
  readonly #entries = new Map<BlockHash, Entry>()
  #reindexRoot: BlockHash | undefined

  #entry(hash: BlockHash): Entry {
    const e = this.#entries.get(hash)
    if (!e) throw missing(hash)
    return e
  }

  has(hash: BlockHash): boolean {
    return this.#entries.has(hash)
  }

  getInterval(hash: BlockHash): Interval {
    return this.#entry(hash).interval
  }

  getParent(hash: BlockHash): BlockHash | undefined {
    return this.#entry(hash).parent
  }

  getChildren(hash: BlockHash): readonly BlockHash[] {
    return this.#entry(hash).children
  }

  getHeight(hash: BlockHash): number {
    return this.#entry(hash).height
  }

  getFutureCoveringSet(hash: BlockHash): readonly BlockHash[] {
    return this.#entry(hash).futureCoveringSet
  }

  getReindexRoot(): BlockHash {
    if (this.#reindexRoot === undefined) throw missing('the reindex root')
    return this.#reindexRoot
  }

  init(root: BlockHash, capacity: Interval): void {
    if (this.#entries.has(root)) return
    this.#entries.set(root, { parent: undefined, interval: capacity, height: 0, children: [], futureCoveringSet: [] })
    this.#reindexRoot = root
  }

  insert(hash: BlockHash, parent: BlockHash, interval: Interval, height: number): void {
    if (this.#entries.has(hash)) {
      throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `block ${hash} is already in the reachability index`)
    }
    this.#entries.set(hash, { parent, interval, height, children: [], futureCoveringSet: [] })
  }

  setInterval(hash: BlockHash, interval: Interval): void {
    this.#entry(hash).interval = interval
  }

  appendChild(parent: BlockHash, child: BlockHash): void {
    this.#entry(parent).children.push(child)
  }

  insertFutureCoveringItem(hash: BlockHash, item: BlockHash, index: number): void {
    this.#entry(hash).futureCoveringSet.splice(index, 0, item)
  }

  setReindexRoot(hash: BlockHash): void {
    this.#reindexRoot = hash
  }
}

function missing(what: string): CairnError {
  return new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `reachability data missing for ${what}`)
}
