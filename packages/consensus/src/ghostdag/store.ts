import type { BlockHash } from './hash.ts'

/** What GhostDAG computes for a block (Kaspa's `GhostdagData`). */
export interface GhostdagData {
  /** Blue blocks in the block's past: the selected parent's blue score plus the mergeset's blues. */
  blueScore: number
  /** The work of those blue blocks (the genesis counts none). */
  blueWork: bigint
  /** The parent with the highest blue work (ties by hash); {@link GENESIS_PARENT} for the genesis. */
  selectedParent: BlockHash
  /** The mergeset's blues in consensus order, the selected parent first. */
  mergesetBlues: readonly BlockHash[]
  /** The mergeset's reds in consensus order. */
  mergesetReds: readonly BlockHash[]
  /**
   * For each blue of the mergeset, and each earlier blue whose blue anticone grew: the size of its
   * anticone within this block's blue set (what the k-cluster rule checks without walking the DAG).
   */
  bluesAnticoneSizes: ReadonlyMap<BlockHash, number>
}

/** The genesis's selected parent: the zero hash, as an Ethereum genesis's `parentHash`. */
export const GENESIS_PARENT: BlockHash = `0x${'00'.repeat(32)}`

/** A block's parents as its header names them (Kaspa's relations store). */
export interface RelationsReader {
  getParents(hash: BlockHash): readonly BlockHash[] | undefined
}

export interface RelationsStore extends RelationsReader {
  putParents(hash: BlockHash, parents: readonly BlockHash[]): void
}

/** GhostDAG's result per block. Reads are synchronous: the engine backs it with a cache over `getSync`. */
export interface GhostdagStoreReader {
  getGhostdag(hash: BlockHash): GhostdagData | undefined
}

export interface GhostdagStore extends GhostdagStoreReader {
  putGhostdag(hash: BlockHash, data: GhostdagData): void
}

/** The work each block's header proves (the engine derives it from the header's target). */
export interface WorkStore {
  getWork(hash: BlockHash): bigint | undefined
  putWork(hash: BlockHash, work: bigint): void
}

/** Relations, work and GhostDAG data in maps: for tests, the CLI and the bench. */
export class MemoryDagStore implements RelationsStore, GhostdagStore, WorkStore {
  readonly #parents = new Map<BlockHash, readonly BlockHash[]>()
  readonly #ghostdag = new Map<BlockHash, GhostdagData>()
  readonly #work = new Map<BlockHash, bigint>()

  getWork(hash: BlockHash): bigint | undefined {
    return this.#work.get(hash)
  }

  putWork(hash: BlockHash, work: bigint): void {
    this.#work.set(hash, work)
  }

  getParents(hash: BlockHash): readonly BlockHash[] | undefined {
    return this.#parents.get(hash)
  }

  putParents(hash: BlockHash, parents: readonly BlockHash[]): void {
    this.#parents.set(hash, parents)
  }

  getGhostdag(hash: BlockHash): GhostdagData | undefined {
    return this.#ghostdag.get(hash)
  }

  putGhostdag(hash: BlockHash, data: GhostdagData): void {
    this.#ghostdag.set(hash, data)
  }

  has(hash: BlockHash): boolean {
    return this.#ghostdag.has(hash)
  }

  get size(): number {
    return this.#ghostdag.size
  }
}
