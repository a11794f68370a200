import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import { compareSortable, type SortableBlock } from './ordering.ts'
import type { ReachabilityService } from './reachability/reachability.ts'
import { GENESIS_PARENT, type GhostdagData, type GhostdagStoreReader } from './store.ts'

function dataOf(store: GhostdagStoreReader, hash: BlockHash): GhostdagData {
  const d = store.getGhostdag(hash)
  if (!d) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no GhostDAG data for ${hash}`)
  return d
}

/**
 * A block's mergeset in consensus order (Kaspa's `consensus_ordered_mergeset`): the selected
 * parent first, then the other blues and the reds merged into one ascending (blue work, hash)
 * order. That order is topological (a block's past has less blue work), so a transaction is never
 * executed before one it depends on in its own past — which blues-then-reds would not give: a blue
 * may have a red in its past.
 */
export function consensusOrderedMergeset(store: GhostdagStoreReader, data: GhostdagData): BlockHash[] {
  if (data.selectedParent === GENESIS_PARENT) return []
  const sortable = (hash: BlockHash): SortableBlock => ({ hash, blueWork: dataOf(store, hash).blueWork })
  const blues = data.mergesetBlues.slice(1).map(sortable)
  const reds = data.mergesetReds.map(sortable)
  const out: BlockHash[] = [data.selectedParent]
  let i = 0
  let j = 0
  while (i < blues.length || j < reds.length) {
    if (j === reds.length || (i < blues.length && compareSortable(blues[i]!, reds[j]!) < 0)) out.push(blues[i++]!.hash)
    else out.push(reds[j++]!.hash)
  }
  return out
}

/** The selected-parent chain from the genesis up to `tip`, genesis first. */
export function selectedChain(store: GhostdagStoreReader, tip: BlockHash): BlockHash[] {
  const chain: BlockHash[] = []
  for (let h = tip; h !== GENESIS_PARENT; h = dataOf(store, h).selectedParent) chain.push(h)
  return chain.reverse()
}

/** How the virtual selected-parent chain moves from one sink to another. */
export interface ChainChange {
  /** The highest block on both chains. */
  commonAncestor: BlockHash
  /** Chain blocks that leave the chain, the old sink first (highest first). */
  removed: BlockHash[]
  /** Chain blocks that join the chain, lowest first, the new sink last. */
  added: BlockHash[]
}

/**
 * The chain change from `oldSink` to `newSink`: walk down the new chain until a block on the old
 * chain (one reachability query each), then down the old chain to it (Kaspa's
 * `calculate_chain_path`).
 */
export function chainChange(
  store: GhostdagStoreReader,
  reachability: ReachabilityService,
  oldSink: BlockHash,
  newSink: BlockHash,
): ChainChange {
  const added: BlockHash[] = []
  let common = newSink
  while (!reachability.isChainAncestorOf(common, oldSink)) {
    added.push(common)
    common = dataOf(store, common).selectedParent
    if (common === GENESIS_PARENT) {
      throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${oldSink} and ${newSink} share no chain block`)
    }
  }
  const removed: BlockHash[] = []
  for (let h = oldSink; h !== common; h = dataOf(store, h).selectedParent) removed.push(h)
  return { commonAncestor: common, removed, added: added.reverse() }
}
