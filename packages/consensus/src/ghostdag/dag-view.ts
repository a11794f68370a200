import type { Hex } from 'viem'
import type { BlockDag } from './dag.ts'
import type { ChainBlockAcceptance, ChainUpdate } from './execution.ts'
import { chainChangeDepthBucket, type GhostdagMetrics } from './ghostdag-metrics.ts'
import type { BlockHash } from './hash.ts'
import type { RelationsReader } from './store.ts'

/** What `cairn_getDagInfo` answers: the DAG as this node sees it. */
export interface DagInfo {
  k: number
  /** Blocks with no children yet, ascending. */
  tips: BlockHash[]
  /** The sink: the block of highest blue work, the top of the virtual selected-parent chain. */
  virtualSelectedParent: BlockHash
  blueScore: number
  blueWork: Hex
  /** Blocks in the DAG, the genesis included. */
  blockCount: number
  /** Chain blocks above the genesis on the virtual selected-parent chain. */
  chainBlockCount: number
  /** Blocks accepted by the virtual chain (in a chain block's mergeset) as blue and as red. */
  blueBlockCount: number
  redBlockCount: number
  /** blue / (blue + red) over the accepted blocks. */
  blueRatio: number
  /** The virtual selected parent's DAA score (blocks in its past), when the view has `daaScore`. */
  daaScore: string | null
  /** Transactions applied along the virtual chain (skipped ones not counted): two readings give a rate. */
  appliedTxCount: number
}

/** What `cairn_getBlockDagData(hash)` answers for one block. */
export interface BlockDagData {
  hash: BlockHash
  /** The selected parent first, then the others as the header names them. */
  parents: BlockHash[]
  children: BlockHash[]
  blueScore: number
  blueWork: Hex
  selectedParent: BlockHash
  mergesetBlues: BlockHash[]
  mergesetReds: BlockHash[]
  /** On the virtual selected-parent chain. */
  isChainBlock: boolean
  /** The chain block whose mergeset holds this block (which executed its transactions); null until merged. */
  acceptingBlock: BlockHash | null
  /** Its colour in that chain block's mergeset; null until merged. */
  color: 'blue' | 'red' | null
}

export interface DagViewModules {
  dag: BlockDag
  relations: RelationsReader
  metrics: GhostdagMetrics | null
  /** A block's DAA score (`DagDifficulty.daaScore`), if the engine keeps one. */
  daaScore?: (hash: BlockHash) => bigint
}

/**
 * The DAG as the RPC and the metrics see it, kept up to date by the engine: `blockAdded` after
 * each `BlockDag.addBlock`, `chainUpdated` after each `DagExecutor.moveTo`. Holds the children and
 * tips (GhostDAG needs neither) and which chain block accepted each block.
 */
export class DagView {
  readonly #m: DagViewModules
  readonly #children = new Map<BlockHash, BlockHash[]>()
  readonly #tips = new Set<BlockHash>()
  readonly #accepting = new Map<BlockHash, BlockHash>()
  #count = 1
  /** The genesis too is accepted by a chain block: the first one, as its selected parent. */
  #blue = 0
  #red = 0
  #chainBlocks = 0
  #appliedTxs = 0
  #tip: BlockHash

  constructor(_opts: Record<string, never>, modules: DagViewModules) {
    this.#m = modules
    const genesis = modules.dag.ghostdag.genesis
    this.#tip = genesis
    this.#tips.add(genesis)
    modules.metrics?.tips.set(1)
  }

  /** A block was added to the DAG. */
  blockAdded(hash: BlockHash): void {
    const parents = this.#m.relations.getParents(hash) ?? []
    for (const p of parents) {
      const list = this.#children.get(p)
      if (list) list.push(hash)
      else this.#children.set(p, [hash])
      this.#tips.delete(p)
    }
    this.#tips.add(hash)
    this.#count++
    const data = this.#m.dag.get(hash)
    const metrics = this.#m.metrics
    if (metrics) {
      metrics.blocks.inc()
      if (data) metrics.mergesetSize.observe(data.mergesetBlues.length + data.mergesetReds.length)
      metrics.tips.set(this.#tips.size)
    }
  }

  /** The executor moved the virtual chain. */
  chainUpdated(update: ChainUpdate<unknown>): void {
    for (const acc of update.removed) this.#account(acc, -1)
    for (const acc of update.added) this.#account(acc, +1)
    const top = update.added[update.added.length - 1]
    this.#tip = top ? top.chainBlock : update.commonAncestor
    const metrics = this.#m.metrics
    if (metrics) {
      metrics.virtualChainChanges.inc({ depth: chainChangeDepthBucket(update.removed.length) })
      metrics.acceptedBlocks.set({ color: 'blue' }, this.#blue)
      metrics.acceptedBlocks.set({ color: 'red' }, this.#red)
      metrics.blueScore.set(this.#m.dag.get(this.#tip)?.blueScore ?? 0)
    }
  }

  #account(acc: ChainBlockAcceptance<unknown>, sign: 1 | -1): void {
    const { chainBlock, mergeset } = acc
    const data = this.#m.dag.get(chainBlock)!
    for (const x of acc.txs) if (x.outcome.applied) this.#appliedTxs += sign
    this.#blue += sign * data.mergesetBlues.length
    this.#red += sign * data.mergesetReds.length
    this.#chainBlocks += sign
    for (const b of mergeset) {
      if (sign > 0) this.#accepting.set(b, chainBlock)
      else this.#accepting.delete(b)
    }
  }

  info(): DagInfo {
    const sink = this.#m.dag.get(this.#tip)!
    const accepted = this.#blue + this.#red
    return {
      k: this.#m.dag.ghostdag.k,
      tips: [...this.#tips].sort(),
      virtualSelectedParent: this.#tip,
      blueScore: sink.blueScore,
      blueWork: `0x${sink.blueWork.toString(16)}`,
      blockCount: this.#count,
      chainBlockCount: this.#chainBlocks,
      blueBlockCount: this.#blue,
      redBlockCount: this.#red,
      blueRatio: accepted === 0 ? 1 : this.#blue / accepted,
      daaScore: this.#m.daaScore ? this.#m.daaScore(this.#tip).toString() : null,
      appliedTxCount: this.#appliedTxs,
    }
  }

  /** A block's DAG data, or undefined for a block not in the DAG. */
  blockData(hash: BlockHash): BlockDagData | undefined {
    const data = this.#m.dag.get(hash)
    if (!data) return undefined
    const dag = this.#m.dag
    const accepting = this.#accepting.get(hash) ?? null
    const color = accepting === null ? null : dag.get(accepting)!.mergesetBlues.includes(hash) ? 'blue' : 'red'
    const parents = [...(this.#m.relations.getParents(hash) ?? [])]
    const sp = parents.indexOf(data.selectedParent)
    if (sp > 0) parents.unshift(...parents.splice(sp, 1))
    return {
      hash,
      parents,
      children: [...(this.#children.get(hash) ?? [])],
      blueScore: data.blueScore,
      blueWork: `0x${data.blueWork.toString(16)}`,
      selectedParent: data.selectedParent,
      mergesetBlues: [...data.mergesetBlues],
      mergesetReds: [...data.mergesetReds],
      isChainBlock: dag.reachability.isChainAncestorOf(hash, this.#tip),
      acceptingBlock: accepting,
      color,
    }
  }
}
