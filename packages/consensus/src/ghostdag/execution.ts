import { CairnError } from '@cairn/utils'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import type { ReachabilityService } from './reachability/reachability.ts'
import type { GhostdagData, GhostdagStoreReader } from './store.ts'
import { type ChainChange, chainChange, consensusOrderedMergeset } from './virtual-chain.ts'

/**
 * Why a transaction carried by a merged block was not executed. None of them fails the block:
 * parallel blocks carry the same transaction, or conflicting ones, as a matter of course.
 * - `nonce-used`: its sender's nonce is already past it (the same transaction executed earlier, or
 *   another one with its nonce);
 * - `nonce-gap`: its nonce is ahead of the sender's (an earlier one was skipped or is not merged yet);
 * - `insufficient-funds`: the balance no longer covers it (spent by a transaction ordered before);
 * - `invalid`: the rules refuse it for any other reason (the engine's EVM checks).
 */
export type SkipReason = 'nonce-used' | 'nonce-gap' | 'insufficient-funds' | 'invalid'

/**
 * An executed transaction's outcome. `applied` means its effects (and its sender's nonce) are in
 * the state — for the EVM, even when its execution reverted (`reverted`, its gas still paid).
 */
export type TxOutcome = { applied: true; gasUsed?: bigint; reverted?: boolean } | { applied: false; reason: SkipReason }

/** Where a transaction is being executed. */
export interface ApplyContext {
  /** The chain block executing it (whose header gives the EVM its block context). */
  chainBlock: BlockHash
  /** The DAG block that carried it. */
  block: BlockHash
}

/** The state transition the executor drives: the account rules here, the EVM (`evmRules`) in the engine. */
export interface TxRules<Tx, S> {
  /**
   * Applies `tx` to `state` in place, or leaves `state` untouched and says why it is skipped.
   * Asynchronous rules (the EVM's) are run by `moveToAsync`.
   */
  apply(state: S, tx: Tx, ctx: ApplyContext): TxOutcome | Promise<TxOutcome>
  /** An independent copy of `state` (each chain block keeps the state after its mergeset). */
  copy(state: S): S
}

/** One transaction as a chain block accepted it. */
export interface AcceptedTx<Tx> {
  tx: Tx
  /** The DAG block that carried it (a receipt's `dagBlockHash`). */
  block: BlockHash
  /** Its index among that block's transactions. */
  index: number
  outcome: TxOutcome
}

/** What a chain block executed: its mergeset in consensus order and every transaction of it. */
export interface ChainBlockAcceptance<Tx> {
  chainBlock: BlockHash
  /** The selected parent first, then blues and reds by (blue work, hash). */
  mergeset: readonly BlockHash[]
  txs: readonly AcceptedTx<Tx>[]
}

export interface ChainUpdate<Tx> extends Pick<ChainChange, 'commonAncestor'> {
  /** Acceptance data of the chain blocks rolled back, the old sink first (what `removed: true` logs come from). */
  removed: ChainBlockAcceptance<Tx>[]
  /** Acceptance data of the chain blocks executed, lowest first. */
  added: ChainBlockAcceptance<Tx>[]
}

interface Run<Tx, S> {
  state: S
  mergeset: BlockHash[]
  items: { tx: Tx; block: BlockHash; index: number }[]
  txs: AcceptedTx<Tx>[]
}

export interface DagExecutorOptions<S> {
  genesis: BlockHash
  /** The state at the genesis. */
  genesisState: S
  /**
   * Chain blocks below the tip whose state is kept for rollbacks (the finality depth); a chain
   * change reaching below it is refused. Unbounded by default.
   */
  retainDepth?: number
}

export interface DagExecutorModules<Tx, S> {
  ghostdag: GhostdagStoreReader
  reachability: ReachabilityService
  /** The transactions a block carries, in order. */
  transactions: (block: BlockHash) => readonly Tx[]
  rules: TxRules<Tx, S>
}

/**
 * Execution in GhostDAG order along the virtual selected-parent chain (Kaspa's acceptance): chain
 * block C executes, on the state after its selected parent, the transactions of C's mergeset in
 * consensus order — the selected parent's first, then every merged block's, blue or red — skipping
 * (not failing on) a transaction the rules refuse. A block's own transactions are executed by the
 * chain block that merges it; the sink's, by the next one. When the sink moves, the chain is rolled
 * back to the common chain ancestor (its state kept) and the new chain blocks executed.
 */
export class DagExecutor<Tx, S> {
  readonly #m: DagExecutorModules<Tx, S>
  readonly #retainDepth: number
  /** The executed chain, genesis first. */
  readonly #chain: BlockHash[]
  readonly #states = new Map<BlockHash, S>()
  readonly #acceptance = new Map<BlockHash, ChainBlockAcceptance<Tx>>()
  /** Chain blocks below this index have dropped their state (beyond `retainDepth`). */
  #lowestState = 0

  constructor(opts: DagExecutorOptions<S>, modules: DagExecutorModules<Tx, S>) {
    this.#m = modules
    this.#retainDepth = opts.retainDepth ?? Number.POSITIVE_INFINITY
    if (!(this.#retainDepth >= 1)) throw new RangeError('retainDepth must be at least 1')
    this.#chain = [opts.genesis]
    this.#states.set(opts.genesis, opts.genesisState)
  }

  /** The chain block executed last (the sink once `moveTo` has run). */
  get tip(): BlockHash {
    return this.#chain[this.#chain.length - 1]!
  }

  /** The executed chain, genesis first. */
  get chain(): readonly BlockHash[] {
    return this.#chain
  }

  /** The state after the tip's mergeset (callers must not change it). */
  get state(): S {
    return this.#states.get(this.tip)!
  }

  /** The state after `chainBlock`'s mergeset, while it is on the chain and retained. */
  stateAt(chainBlock: BlockHash): S | undefined {
    return this.#states.get(chainBlock)
  }

  /** What `chainBlock` accepted, while it is on the chain. */
  acceptance(chainBlock: BlockHash): ChainBlockAcceptance<Tx> | undefined {
    return this.#acceptance.get(chainBlock)
  }

  /**
   * Moves the executed chain to end at `sink`: rolls back to the common chain ancestor and executes
   * the new chain blocks. Refuses (`FINALITY_VIOLATION`) a rollback below the retained states.
   */
  moveTo(sink: BlockHash): ChainUpdate<Tx> {
    const { change, removed } = this.#rollBack(sink)
    const added: ChainBlockAcceptance<Tx>[] = []
    for (const h of change.added) {
      const run = this.#begin(h)
      for (const item of run.items) {
        const outcome = this.#m.rules.apply(run.state, item.tx, { chainBlock: h, block: item.block })
        if (outcome instanceof Promise) {
          throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, 'these rules are asynchronous: use moveToAsync')
        }
        run.txs.push({ ...item, outcome })
      }
      added.push(this.#finish(h, run))
    }
    this.#prune()
    return { commonAncestor: change.commonAncestor, removed, added }
  }

  /** {@link moveTo} for asynchronous rules (the EVM's); one call at a time. */
  async moveToAsync(sink: BlockHash): Promise<ChainUpdate<Tx>> {
    const { change, removed } = this.#rollBack(sink)
    const added: ChainBlockAcceptance<Tx>[] = []
    for (const h of change.added) {
      const run = this.#begin(h)
      for (const item of run.items) {
        const outcome = await this.#m.rules.apply(run.state, item.tx, { chainBlock: h, block: item.block })
        run.txs.push({ ...item, outcome })
      }
      added.push(this.#finish(h, run))
    }
    this.#prune()
    return { commonAncestor: change.commonAncestor, removed, added }
  }

  /** Refuses a change below the retained states, else drops the chain blocks it removes. */
  #rollBack(sink: BlockHash): { change: ChainChange; removed: ChainBlockAcceptance<Tx>[] } {
    const change = chainChange(this.#m.ghostdag, this.#m.reachability, this.tip, sink)
    const keep = this.#chain.length - change.removed.length
    if (keep - 1 < this.#lowestState) {
      throw new CairnError(
        GhostdagErrorCode.FINALITY_VIOLATION,
        `moving to ${sink} rolls back ${change.removed.length} chain blocks, below the ${this.#retainDepth} retained`,
      )
    }
    const removed: ChainBlockAcceptance<Tx>[] = []
    for (const h of change.removed) {
      removed.push(this.#acceptance.get(h)!)
      this.#acceptance.delete(h)
      this.#states.delete(h)
    }
    this.#chain.length = keep
    return { change, removed }
  }

  /** A chain block's run: a copy of its selected parent's state and its mergeset's transactions in order. */
  #begin(chainBlock: BlockHash): Run<Tx, S> {
    const data = this.#data(chainBlock)
    const parentState = this.#states.get(data.selectedParent)
    if (parentState === undefined || this.tip !== data.selectedParent) {
      throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, `${chainBlock} does not extend the executed chain`)
    }
    const mergeset = consensusOrderedMergeset(this.#m.ghostdag, data)
    const items: Run<Tx, S>['items'] = []
    for (const block of mergeset) {
      const txs = this.#m.transactions(block)
      for (let index = 0; index < txs.length; index++) items.push({ tx: txs[index]!, block, index })
    }
    return { state: this.#m.rules.copy(parentState), mergeset, items, txs: [] }
  }

  #finish(chainBlock: BlockHash, run: Run<Tx, S>): ChainBlockAcceptance<Tx> {
    const acceptance = { chainBlock, mergeset: run.mergeset, txs: run.txs }
    this.#chain.push(chainBlock)
    this.#states.set(chainBlock, run.state)
    this.#acceptance.set(chainBlock, acceptance)
    return acceptance
  }

  #prune(): void {
    const floor = this.#chain.length - 1 - this.#retainDepth
    while (this.#lowestState < floor) this.#states.delete(this.#chain[this.#lowestState++]!)
  }

  #data(hash: BlockHash): GhostdagData {
    const d = this.#m.ghostdag.getGhostdag(hash)
    if (!d) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no GhostDAG data for ${hash}`)
    return d
  }
}
