import { WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, type Logger, type TypedEmitter } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { Mutex } from 'async-mutex'
import type { ChainEngine, HeaderContext } from '../engine.ts'
import { ChainErrorCode } from '../errors.ts'
import { blockLogs, type ChainEvents } from '../events.ts'
import type { ExecutedBlock, Executor } from '../execution/executor.ts'
import type { SenderRecovery } from '../execution/recovery.ts'
import { TxChecks } from '../execution/tx-checks.ts'
import type { ChainMetrics } from '../metrics.ts'
import { checkRlpBlockSize } from '../rules/block-size-limit.ts'
import type { StateDB } from '../state/state-db.ts'
import type { StoredReceipt } from '../store/receipt.ts'
import type { ChainStore } from '../store/store.ts'
import { TimeSlice } from '../time-slice.ts'
import { checkAndExecute } from './block-verifier.ts'
import { type Checkpoints, ForkChoice } from './fork-choice.ts'

export type ImportStatus = 'head' | 'side' | 'known'

export interface ImportResult {
  status: ImportStatus
  block: Block
  /** Blocks that left the canonical chain (a reorg), newest first. */
  removed: Block[]
}

/**
 * The block import pipeline: validate → execute → commit in one atomic batch → update the head →
 * emit events. It does not know which engine runs: the engine validates its seal, finalizes and
 * chooses between forks through {@link ChainEngine}. Imports run one at a time.
 */
/** How {@link BlockImporter.importBlock} treats a block (see there). */
export interface ImportOptions {
  senderOverrides?: boolean
  quiet?: boolean
  next?: Block
  finality?: Uint8Array
}

export class BlockImporter {
  private readonly mutex = new Mutex()
  /**
   * The head and the safe and finalized checkpoints (what the store's pointers name), and the
   * choice between branches. A block whose branch leaves the canonical chain below `finalized` is
   * refused (WOULD_REVERT_FINALIZED).
   */
  readonly forkChoice: ForkChoice

  constructor(
    opts: { head: Block; safe?: BlockHeader; finalized?: BlockHeader },
    private readonly modules: {
      store: ChainStore
      stateDB: StateDB
      executor: Executor
      engine: ChainEngine
      events: TypedEmitter<ChainEvents>
      logger: Logger
      metrics: ChainMetrics | null
      /** Recovers a received block's senders off the main thread (worker pool); inline without. */
      recovery?: SenderRecovery
    },
  ) {
    this.forkChoice = new ForkChoice(opts, { store: modules.store, engine: modules.engine })
  }

  /** The canonical head. */
  get head(): Block {
    return this.forkChoice.head()
  }

  /**
   * Imports a block: validates and executes it (unless `executed`, the producer's own result for
   * this block, is given), then commits it. Only the commit and the head update run under the
   * importer's lock; execution does not, so blocks can execute while another commits.
   * `senderOverrides: false` (blocks from outside: gossip, sync) ignores the dev-mode
   * impersonation table. `quiet` logs the block at debug instead of info (a range sync, which
   * logs its progress per batch instead: a line per block costs as much as a small block's commit).
   * `next` (with `senderOverrides: false`): the child block the caller imports right after this
   * one (a range sync's or a file's next block), executed ahead (see {@link executeAhead}).
   * `finality`: the engine has proven this block final (its certificate): when the block becomes
   * the head it is written final in the block's own batch, as {@link setFinalized} would after it
   * (one write, and no moment at which the stored head is committed but not yet final). Not
   * applied to a block that was already known or lands on a side branch: the caller then calls
   * `setFinalized` itself.
   */
  importBlock(block: Block, executed?: ExecutedBlock, opts: ImportOptions = {}): Promise<ImportResult> {
    const key = bytesToHex(block.hash())
    const before = this.inflight.get(key)
    const run = (async () => {
      // The same block already on its way in: once it is, this one is known.
      if (before) await before.catch(() => {})
      return this.importNow(block, executed, opts)
    })()
    const settled = run.catch(() => undefined)
    this.inflight.set(key, settled)
    void settled.then(() => {
      if (this.inflight.get(key) === settled) this.inflight.delete(key)
    })
    return run
  }

  /** What the engine's `validateHeader` may read. */
  get headerContext(): HeaderContext {
    const { store, executor } = this.modules
    return { chain: store, stateAt: (root) => executor.views.stateAt(root) }
  }

  /** Imports in flight by block hash: a block whose parent is one of them waits for it. */
  private readonly inflight = new Map<string, Promise<unknown>>()

  /** The block executed ahead of its import ({@link executeAhead}), and that execution. */
  private ahead: { block: Block; result: Promise<ExecutedBlock | undefined> } | undefined

  /**
   * Executes `next` on `parent`'s result while `parent` commits: the executor would otherwise be
   * idle for the parent's batch write (a thread-pool round trip, ~1 ms for a block of ten
   * transfers), which the next block's import waited for. Nothing is decided by it: when `next`
   * is imported it is validated as any block is (after its parent committed, so that the checks
   * that read the store see the parent), and only then is this result used instead of executing
   * it again. A failed execution ahead leaves nothing: the import executes the block itself and
   * reports its error. An import of any other block forgets it (one at a time; a block that is
   * not imported leaves only its layer in memory until then).
   */
  private executeAhead(next: Block, parent: ExecutedBlock): void {
    if (!equalsBytes(next.header.parentHash, parent.block.hash())) return
    const result = this.modules.executor
      .execute(next, parent, new TxChecks(next, this.modules.recovery))
      .catch(() => undefined)
    this.ahead = { block: next, result }
  }

  private async importNow(
    block: Block,
    executed: ExecutedBlock | undefined,
    opts: ImportOptions,
  ): Promise<ImportResult> {
    const { store, executor, engine, metrics } = this.modules
    const started = performance.now()
    const hash = block.hash()
    const ahead = this.ahead?.block === block ? this.ahead : undefined
    this.ahead = undefined
    // Dev-mode impersonated transactions only: a rebuilt block holds fresh transaction objects.
    if (opts.senderOverrides !== false) store.senders?.applyInPlace(block.transactions)
    // A parent still being imported (consecutive blocks imported at once): wait for it.
    await this.inflight.get(bytesToHex(block.header.parentHash))
    if (await store.hashToNumber.has(hash)) {
      metrics?.blocksImported.inc({ status: 'known' })
      return { status: 'known', block, removed: [] }
    }
    const parent = await store.getBlock(block.header.parentHash)
    if (!parent) {
      throw new CairnError(
        ChainErrorCode.PARENT_UNKNOWN,
        `block ${block.header.number} ${bytesToHex(hash)}: parent ${bytesToHex(block.header.parentHash)} is unknown`,
        { fault: 'caller' },
      )
    }
    let result: ExecutedBlock
    let totalDifficulty: bigint | undefined
    try {
      await this.forkChoice.checkViable(block)
      totalDifficulty = await this.totalDifficulty(block, parent)
      if (executed && equalsBytes(executed.block.hash(), hash)) {
        // The producer keeps within EIP-7934's limit; a block that is not is never committed.
        checkRlpBlockSize(block)
        result = executed
      } else {
        // The checks and the execution a verifier runs (one pipeline: `./block-verifier.ts`).
        result = await checkAndExecute(
          block,
          parent,
          { store, engine, executor, headerContext: this.headerContext, recovery: this.modules.recovery },
          ahead ? { ahead: ahead.result } : {},
        )
      }
    } catch (err) {
      metrics?.blocksImported.inc({ status: 'invalid' })
      throw err
    }
    if (opts.next && opts.senderOverrides === false) this.executeAhead(opts.next, result)
    return this.commit(result, totalDifficulty, started, opts.quiet === true, opts.finality)
  }

  /**
   * Runs `fn` while no commit runs (rewinds use it to move the head; nothing else needs the head to
   * stay put across an await).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.runExclusive(fn)
  }

  /**
   * Commits an executed block whose parent is stored: the block, its receipts, indexes and state
   * writes in ONE batch, then the head (fork choice) and the events. Under the importer's lock.
   */
  private commit(
    result: ExecutedBlock,
    totalDifficulty: bigint | undefined,
    started: number,
    quiet: boolean,
    finality: Uint8Array | undefined,
  ): Promise<ImportResult> {
    return this.mutex.runExclusive(async () => {
      const { store, stateDB, metrics } = this.modules
      const { block } = result
      const hash = block.hash()
      // Another import of the same block may have committed it while this one executed.
      if (await store.hashToNumber.has(hash)) {
        metrics?.blocksImported.inc({ status: 'known' })
        return { status: 'known', block, removed: [] }
      }
      // Finality may have moved while it executed.
      try {
        await this.forkChoice.checkViable(block)
      } catch (err) {
        metrics?.blocksImported.inc({ status: 'invalid' })
        throw err
      }
      // A block of a thousand transactions is tens of milliseconds of encoding: requests that
      // arrive meanwhile get a turn between the parts (nothing is written before the batch is).
      const slice = new TimeSlice()
      const batch = new WriteBatch()
      const size = store.putBlock(batch, block, result.receipts)
      if (totalDifficulty !== undefined) store.totalDifficulty.put(hash, totalDifficulty, batch)
      await slice.check()
      stateDB.commitLayer(result.writes, batch)
      this.modules.executor.preimages?.drainInto(batch)
      await slice.check()

      const old = this.head
      const { status, added, removed, moved } = await this.forkChoice.onBlock(block)
      // Proven final by the block itself (a BFT block carries its parent's certificate): the parent
      // final with its proof in this batch, however the block came (sync, gossip, the engine).
      const proven = status === 'head' ? await this.provenParent(block, old) : undefined
      if (proven) this.stageFinality(batch, proven.header, proven.proof, moved)
      // Proven final by the engine: the block, and its finality, in this one batch.
      const final = finality !== undefined && status === 'head'
      if (final) this.stageFinality(batch, block.header, finality, moved)
      if (status === 'head') {
        for (const b of removed) store.unsetCanonical(batch, b)
        for (const b of added) store.setCanonical(batch, b)
        store.setHead(batch, 'latest', hash)
        if (moved.finalized) store.setHead(batch, 'finalized', moved.finalized.hash())
        if (moved.safe) store.setHead(batch, 'safe', moved.safe.hash())
      }
      await batch.write(store.kv)
      result.writes.markCommitted()
      store.remember(block, result.receipts)
      this.forkChoice.apply({ head: status === 'head' ? block : undefined, moved })
      this.observe(block, result.receipts, status, performance.now() - started, size, quiet)
      if (status === 'head') await this.announce(old, block, added, removed, result.receipts)
      this.announceCheckpoints(moved, final ? finality : (proven?.proof ?? new Uint8Array()))
      return { status, block, removed }
    })
  }

  /**
   * The parent that `block` (becoming the head) proves final (`ChainEngine.parentFinality`, the
   * proof checked by `validateHeader`), with the proof; undefined when it carries none or the parent
   * is final already (its proof was stored when it became final).
   */
  private async provenParent(
    block: Block,
    old: Block,
  ): Promise<{ header: BlockHeader; proof: Uint8Array } | undefined> {
    const { parentFinality } = this.modules.engine
    if (parentFinality === undefined || block.header.number - 1n <= this.forkChoice.finalized().number) return undefined
    const proof = parentFinality.call(this.modules.engine, block.header)
    if (proof === undefined) return undefined
    const { parentHash } = block.header
    const header = equalsBytes(old.hash(), parentHash) ? old.header : await this.modules.store.getHeader(parentHash)
    return header === undefined ? undefined : { header, proof }
  }

  /**
   * On a chain that merges by terminal total difficulty (TTD), the block's total difficulty, after
   * checking which side of the merge it is on: a proof-of-work block (difficulty > 0) only while
   * its parent's total difficulty is below the TTD, a proof-of-stake one (difficulty 0) only once
   * it has reached it. Undefined on other chains.
   */
  private async totalDifficulty(block: Block, parent: Block): Promise<bigint | undefined> {
    const { store } = this.modules
    const ttd = store.commons.schedule.terminalTotalDifficulty
    if (ttd === undefined) return undefined
    const h = block.header
    const parentTd = await store.totalDifficulty.get(parent.hash())
    if (parentTd === undefined) {
      throw new CairnError(ChainErrorCode.CORRUPT, `no total difficulty stored for block ${parent.header.number}`, {
        hint: 'the datadir was not created by this version; import the chain into a new datadir',
      })
    }
    const fail = (why: string) =>
      new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${h.number} ${bytesToHex(block.hash())}: ${why}`, {
        fault: 'caller',
      })
    if (h.difficulty === 0n && parentTd < ttd) {
      throw fail(
        `a proof-of-stake block (difficulty 0) before the terminal total difficulty ${ttd} (parent's ${parentTd})`,
      )
    }
    if (h.difficulty > 0n && parentTd >= ttd) {
      throw fail(`a proof-of-work block after the terminal total difficulty ${ttd} was reached (parent's ${parentTd})`)
    }
    return parentTd + h.difficulty
  }

  /**
   * Makes the canonical block `hash` the finalized one (an engine that proves finality pushes it,
   * with its certificate, stored in the `finality` bucket). Finality only moves forward; the safe
   * block moves with it when it was below. Emits `finalized` (and `safe`).
   */
  setFinalized(hash: Uint8Array, certificate: Uint8Array = new Uint8Array()): Promise<void> {
    return this.mutex.runExclusive(async () => {
      const { store } = this.modules
      const header = await this.canonicalHeader(hash, 'finalize')
      const moved: Checkpoints = {}
      const batch = new WriteBatch()
      this.stageFinality(batch, header, certificate, moved)
      store.setHead(batch, 'finalized', hash)
      if (moved.safe) store.setHead(batch, 'safe', hash)
      await batch.write(store.kv)
      this.forkChoice.apply({ moved })
      this.announceCheckpoints(moved, certificate)
    })
  }

  /**
   * The one place finality is written: `header` becomes final with `proof` (its certificate, kept
   * in the `finality` bucket) in `batch`, and the checkpoints that move are added to `moved` (the
   * caller writes the pointers with the rest of its batch and applies `moved` once written). Used
   * by a commit (the engine's proof of the block, or the block's proof of its parent) and by
   * {@link setFinalized}; throws when finality would move backwards.
   */
  private stageFinality(batch: WriteBatch, header: BlockHeader, proof: Uint8Array, moved: Checkpoints): void {
    Object.assign(moved, this.forkChoice.onFinalized(header))
    this.modules.store.finality.put(header.hash(), proof, batch)
  }

  /** Makes the canonical block `hash` (at or above the finalized one) the safe block. Emits `safe`. */
  setSafe(hash: Uint8Array): Promise<void> {
    return this.mutex.runExclusive(async () => {
      const header = await this.canonicalHeader(hash, 'mark safe')
      const moved = this.forkChoice.onSafe(header)
      const batch = new WriteBatch()
      this.modules.store.setHead(batch, 'safe', hash)
      await batch.write(this.modules.store.kv)
      this.forkChoice.apply({ moved })
      this.announceCheckpoints({ safe: header }, new Uint8Array())
    })
  }

  private async canonicalHeader(hash: Uint8Array, what: string): Promise<BlockHeader> {
    const { store } = this.modules
    const header = await store.getHeader(hash)
    const canonical = header ? await store.getCanonicalHash(header.number) : undefined
    if (!header || !canonical || !equalsBytes(canonical, hash)) {
      throw new CairnError(
        ChainErrorCode.FINALITY_INVALID,
        `cannot ${what} block ${bytesToHex(hash)}: it is not on the canonical chain`,
        { fault: 'caller' },
      )
    }
    return header
  }

  private announceCheckpoints(moved: Checkpoints, certificate: Uint8Array): void {
    const { events, logger } = this.modules
    try {
      if (moved.finalized) events.emit('finalized', { block: moved.finalized, certificate })
      if (moved.safe) events.emit('safe', { block: moved.safe })
    } catch (err) {
      logger.error({ err }, 'chain event listener failed')
    }
  }

  private observe(
    block: Block,
    receipts: StoredReceipt[],
    status: ImportStatus,
    ms: number,
    size: number,
    quiet: boolean,
  ): void {
    const { metrics, logger } = this.modules
    const h = block.header
    if (metrics) {
      metrics.blocksImported.inc({ status })
      metrics.importSeconds.observe(ms / 1000)
      metrics.blockTransactions.observe(block.transactions.length)
      metrics.blockGasUsed.observe(Number(h.gasUsed))
      metrics.blockSizeBytes.observe(size)
      if (status === 'head') {
        metrics.headBlock.set(Number(h.number))
        metrics.headTimestamp.set(Number(h.timestamp))
        metrics.transactionsProcessed.inc(receipts.length)
      }
    }
    ;(quiet ? logger.debug : logger.info).call(
      logger,
      {
        number: Number(h.number),
        hash: bytesToHex(block.hash()),
        txs: block.transactions.length,
        gasUsed: Number(h.gasUsed),
        ms: Math.round(ms * 10) / 10,
        status,
      },
      status === 'head' ? 'imported new head' : 'imported side block',
    )
  }

  private async announce(old: Block, head: Block, added: Block[], removed: Block[], headReceipts: StoredReceipt[]) {
    const { events, store, logger, metrics } = this.modules
    const emit = <K extends keyof ChainEvents>(name: K, payload: ChainEvents[K]) => {
      try {
        events.emit(name, payload)
      } catch (err) {
        logger.error({ err, event: name }, 'chain event listener failed')
      }
    }
    if (removed.length > 0) {
      metrics?.reorgs.inc()
      metrics?.reorgDepth.observe(removed.length)
      const ancestor = (added[0] as Block).header.number - 1n
      logger.warn(
        { depth: removed.length, ancestor: Number(ancestor), oldHead: bytesToHex(old.hash()) },
        'chain reorganised',
      )
      emit('reorg', { oldHead: old, newHead: head, ancestorNumber: ancestor, removed, added })
      const gone = []
      for (const b of removed) gone.push(...blockLogs(b, (await store.getReceipts(b.hash())) ?? [], true))
      if (gone.length > 0) emit('logs', gone)
    }
    for (const b of added) {
      const receipts = b === head ? headReceipts : ((await store.getReceipts(b.hash())) ?? [])
      emit('newHead', { block: b, receipts })
      const logs = blockLogs(b, receipts, false)
      if (logs.length > 0) emit('logs', logs)
    }
  }
}
