import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import { unorderedMergeset } from './mergeset.ts'
import { compareSortable, sortBlocks } from './ordering.ts'
import type { ReachabilityService } from './reachability/reachability.ts'
import { GENESIS_PARENT, type GhostdagData, type GhostdagStoreReader, type RelationsReader } from './store.ts'

export interface GhostdagOptions {
  /** The k-cluster parameter: at most K blues in any blue block's anticone. */
  k: number
  genesis: BlockHash
}

export interface GhostdagModules {
  relations: RelationsReader
  ghostdag: GhostdagStoreReader
  reachability: ReachabilityService
  /** The work a block's header proves (from its target). */
  work: (hash: BlockHash) => bigint
}

/** The mergeset being coloured: Kaspa's `GhostdagData` under construction. */
interface Coloring {
  selectedParent: BlockHash
  mergesetBlues: BlockHash[]
  mergesetReds: BlockHash[]
  bluesAnticoneSizes: Map<BlockHash, number>
}

type Verdict = { blue: true; anticoneSize: number; affected: Map<BlockHash, number> } | { blue: false }

/**
 * GhostDAG (PHANTOM GHOSTDAG, Sompolinsky–Wyborski–Zohar), as Kaspa's consensus computes it
 * (`consensus/src/processes/ghostdag/protocol.rs`): the selected parent is the parent of highest
 * blue work (ties by hash); the mergeset, in ascending (blue work, hash) order, is coloured greedily:
 * a candidate is blue iff its anticone holds at most K blues of the block's blue set and it would
 * not push any blue's blue anticone above K. Pure: reads the stores, writes nothing.
 */
export class GhostdagManager {
  readonly k: number
  readonly genesis: BlockHash
  readonly #m: GhostdagModules

  constructor(opts: GhostdagOptions, modules: GhostdagModules) {
    if (!Number.isInteger(opts.k) || opts.k < 0 || opts.k > 0xffff) {
      throw new CairnError(
        GhostdagErrorCode.INVALID_DAG,
        `GhostDAG K must be an integer in [0, 65535], got ${opts.k}`,
        {
          fault: 'caller',
        },
      )
    }
    this.k = opts.k
    this.genesis = opts.genesis
    this.#m = modules
  }

  /** The genesis's data: score and work 0, no mergeset. */
  genesisData(): GhostdagData {
    return {
      blueScore: 0,
      blueWork: 0n,
      selectedParent: GENESIS_PARENT,
      mergesetBlues: [],
      mergesetReds: [],
      bluesAnticoneSizes: new Map(),
    }
  }

  #data(hash: BlockHash): GhostdagData {
    const d = this.#m.ghostdag.getGhostdag(hash)
    if (!d) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no GhostDAG data for ${hash}`)
    return d
  }

  #blueWork = (hash: BlockHash): bigint => this.#data(hash).blueWork

  /** The parent of highest blue work, ties by the higher hash (Kaspa's `find_selected_parent`). */
  findSelectedParent(parents: readonly BlockHash[]): BlockHash {
    let best: { hash: BlockHash; blueWork: bigint } | undefined
    for (const hash of parents) {
      const candidate = { hash, blueWork: this.#blueWork(hash) }
      if (!best || compareSortable(candidate, best) > 0) best = candidate
    }
    if (!best) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, 'a block other than the genesis needs parents')
    return best.hash
  }

  /** The mergeset without the selected parent, in consensus order (ascending blue work, then hash). */
  orderedMergeset(selectedParent: BlockHash, parents: readonly BlockHash[]): BlockHash[] {
    const set = unorderedMergeset(this.#m.relations, this.#m.reachability, selectedParent, parents)
    return sortBlocks(set, this.#blueWork)
  }

  /** GhostDAG's data for a new block with these parents (all already in the stores). */
  ghostdag(parents: readonly BlockHash[]): GhostdagData {
    const selectedParent = this.findSelectedParent(parents)
    const coloring: Coloring = {
      selectedParent,
      mergesetBlues: [selectedParent],
      mergesetReds: [],
      bluesAnticoneSizes: new Map([[selectedParent, 0]]),
    }
    for (const candidate of this.orderedMergeset(selectedParent, parents)) {
      const verdict = this.#checkBlueCandidate(coloring, candidate)
      if (verdict.blue) {
        coloring.mergesetBlues.push(candidate)
        coloring.bluesAnticoneSizes.set(candidate, verdict.anticoneSize)
        for (const [blue, size] of verdict.affected) coloring.bluesAnticoneSizes.set(blue, size + 1)
      } else {
        coloring.mergesetReds.push(candidate)
      }
    }
    const parent = this.#data(selectedParent)
    let addedWork = 0n
    for (const blue of coloring.mergesetBlues) addedWork += this.#m.work(blue)
    return {
      ...coloring,
      blueScore: parent.blueScore + coloring.mergesetBlues.length,
      blueWork: parent.blueWork + addedWork,
    }
  }

  /**
   * Walks the new block's selected chain (starting with the mergeset coloured so far), counting
   * the candidate's blue anticone, until a chain block in the candidate's past: every blue below
   * it is in the candidate's past too.
   */
  #checkBlueCandidate(coloring: Coloring, candidate: BlockHash): Verdict {
    const k = this.k
    // The selected parent and at most K blues in its anticone.
    if (coloring.mergesetBlues.length === k + 1) return { blue: false }
    const affected = new Map<BlockHash, number>()
    let anticoneSize = 0
    let chainHash: BlockHash | undefined // undefined: the new block itself
    let chainBlues: readonly BlockHash[] = coloring.mergesetBlues
    let chainSelectedParent = coloring.selectedParent
    for (;;) {
      if (chainHash !== undefined && this.#m.reachability.isDagAncestorOf(chainHash, candidate)) {
        return { blue: true, anticoneSize, affected }
      }
      for (const peer of chainBlues) {
        if (this.#m.reachability.isDagAncestorOf(peer, candidate)) continue
        // The mergeset is walked past-to-future, so a blue is never in the candidate's future.
        const peerSize = this.#blueAnticoneSize(peer, coloring)
        affected.set(peer, peerSize)
        anticoneSize++
        if (anticoneSize > k) return { blue: false }
        if (peerSize === k) return { blue: false }
        if (peerSize > k) {
          throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `blue ${peer} has a blue anticone above K`)
        }
      }
      chainHash = chainSelectedParent
      const data = this.#data(chainHash)
      chainBlues = data.mergesetBlues
      chainSelectedParent = data.selectedParent
    }
  }

  /** The size of `block`'s anticone within the blue set of `context` (`block` must be blue there). */
  #blueAnticoneSize(block: BlockHash, context: Coloring): number {
    let sizes: ReadonlyMap<BlockHash, number> = context.bluesAnticoneSizes
    let selectedParent = context.selectedParent
    for (;;) {
      const size = sizes.get(block)
      if (size !== undefined) return size
      if (selectedParent === this.genesis || selectedParent === GENESIS_PARENT) {
        throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${block} is not in the blue set of the context`)
      }
      const data = this.#data(selectedParent)
      sizes = data.bluesAnticoneSizes
      selectedParent = data.selectedParent
    }
  }
}
