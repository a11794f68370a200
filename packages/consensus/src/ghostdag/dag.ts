import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import { compareSortable } from './ordering.ts'
import { GhostdagManager } from './protocol.ts'
import type { Interval } from './reachability/interval.ts'
import { ReachabilityIndex } from './reachability/reachability.ts'
import type { ReachabilityStore } from './reachability/store.ts'
import type { ReindexParams } from './reachability/tree.ts'
import type { GhostdagData, GhostdagStore, RelationsStore, WorkStore } from './store.ts'

export interface BlockDagOptions {
  k: number
  genesis: BlockHash
  /**
   * The work the genesis header proves (from its target), counted in the blue work of every block
   * above it, as Kaspa counts it (its own blue work stays 0). 0 by default.
   */
  genesisWork?: bigint
  /** Header rules (Kaspa's): at most this many parents; unbounded by default (the test-DAG format names any number). */
  maxParents?: number
  /** Header rules (Kaspa's): at most this many blocks in a mergeset, the selected parent included; unbounded by default. */
  mergesetSizeLimit?: number
  reindex?: ReindexParams
  /** The reachability space (tests shrink it to force reindexing); the whole space by default. */
  capacity?: Interval
}

export interface BlockDagModules {
  /** Parents, work and GhostDAG data (one object may hold all three, as `MemoryDagStore` does). */
  store: RelationsStore & GhostdagStore & WorkStore
  reachability: ReachabilityStore
}

/**
 * A block DAG as a header processor grows it: each block, once its parents are known, gets its
 * GhostDAG data and joins the reachability index, in that order (GhostDAG reads reachability of
 * the blocks before it; the index needs the block's selected parent and mergeset). Tracks the sink
 * (the block of highest blue work: the virtual's selected parent) and keeps the reindex root behind it.
 */
export class BlockDag {
  readonly ghostdag: GhostdagManager
  readonly reachability: ReachabilityIndex
  readonly #store: BlockDagModules['store']
  readonly #maxParents: number
  readonly #mergesetSizeLimit: number
  #sink: { hash: BlockHash; blueWork: bigint }

  constructor(opts: BlockDagOptions, modules: BlockDagModules) {
    this.#store = modules.store
    this.#maxParents = opts.maxParents ?? Number.POSITIVE_INFINITY
    this.#mergesetSizeLimit = opts.mergesetSizeLimit ?? Number.POSITIVE_INFINITY
    this.reachability = new ReachabilityIndex(
      { reindex: opts.reindex, capacity: opts.capacity },
      { store: modules.reachability },
    )
    this.ghostdag = new GhostdagManager(
      { k: opts.k, genesis: opts.genesis },
      {
        relations: modules.store,
        ghostdag: modules.store,
        reachability: this.reachability,
        work: (hash) => {
          const w = modules.store.getWork(hash)
          if (w === undefined) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no work stored for ${hash}`)
          return w
        },
      },
    )
    if (!modules.store.getGhostdag(opts.genesis)) {
      modules.store.putParents(opts.genesis, [])
      modules.store.putWork(opts.genesis, opts.genesisWork ?? 0n)
      modules.store.putGhostdag(opts.genesis, this.ghostdag.genesisData())
    }
    this.reachability.init(opts.genesis)
    this.#sink = { hash: opts.genesis, blueWork: 0n }
  }

  /** The block of highest blue work (ties by hash): the virtual's selected parent. */
  get sink(): BlockHash {
    return this.#sink.hash
  }

  has(hash: BlockHash): boolean {
    return this.#store.getGhostdag(hash) !== undefined
  }

  get(hash: BlockHash): GhostdagData | undefined {
    return this.#store.getGhostdag(hash)
  }

  /**
   * Adds a block whose parents are all known. Refuses (with `UNKNOWN_BLOCK`, `fault: 'caller'`) a
   * block already added, no parents, a parent named twice or a parent not added yet; (with
   * `INVALID_HEADER`) more parents than `maxParents` or a mergeset above `mergesetSizeLimit`. A
   * refused block leaves the DAG unchanged.
   */
  addBlock(hash: BlockHash, parents: readonly BlockHash[], work: bigint): GhostdagData {
    if (this.has(hash)) throw refused(`block ${hash} is already in the DAG`)
    if (parents.length === 0) throw refused(`block ${hash} has no parents`)
    if (parents.length > this.#maxParents) {
      throw invalidHeader(`block ${hash} has ${parents.length} parents, more than the ${this.#maxParents} allowed`)
    }
    const seen = new Set<BlockHash>()
    for (const p of parents) {
      if (seen.has(p)) throw refused(`block ${hash} names parent ${p} twice`)
      seen.add(p)
      if (!this.has(p)) throw refused(`block ${hash} has parent ${p}, which is not in the DAG`)
    }
    if (work <= 0n) throw refused(`block ${hash} must carry positive work, got ${work}`)
    // Parents are tips as the miner saw them: none in another's past (Kaspa's incest check). The
    // mergeset walk relies on it (a parent in the selected parent's past would be merged).
    for (const p of parents) {
      for (const q of parents) {
        if (p !== q && this.reachability.isDagAncestorOf(p, q)) {
          throw refused(`block ${hash} names parent ${p}, which is in the past of its parent ${q}`)
        }
      }
    }
    const data = this.ghostdag.ghostdag(parents)
    const mergesetSize = data.mergesetBlues.length + data.mergesetReds.length
    if (mergesetSize > this.#mergesetSizeLimit) {
      throw invalidHeader(
        `block ${hash} merges ${mergesetSize} blocks, more than the mergeset size limit ${this.#mergesetSizeLimit}`,
      )
    }
    this.#store.putParents(hash, [...parents])
    this.#store.putWork(hash, work)
    this.#store.putGhostdag(hash, data)
    this.reachability.addBlock(hash, data.selectedParent, [...data.mergesetBlues.slice(1), ...data.mergesetReds])
    const candidate = { hash, blueWork: data.blueWork }
    // Any block beats the genesis, which is in its past (with no genesis work, a child of the
    // genesis has the genesis's blue work, 0, and could lose to it on the hash).
    if (this.#sink.hash === this.ghostdag.genesis || compareSortable(candidate, this.#sink) > 0) {
      this.#sink = candidate
      this.reachability.hintVirtualSelectedParent(hash)
    }
    return data
  }
}

function invalidHeader(message: string): CairnError {
  return new CairnError(GhostdagErrorCode.INVALID_HEADER, message, { fault: 'caller' })
}

function refused(message: string): CairnError {
  return new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, message, { fault: 'caller' })
}
