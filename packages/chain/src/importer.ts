import { WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, type Logger, type TypedEmitter } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Mutex } from 'async-mutex'
import type { ChainEngine } from './engine.ts'
import { ChainErrorCode } from './errors.ts'
import { blockLogs, type ChainEvents } from './events.ts'
import type { ExecutedBlock, Executor } from './executor.ts'
import type { ChainMetrics } from './metrics.ts'
import { isProofOfWork, validateProofOfWork } from './pow.ts'
import type { StoredReceipt } from './receipt.ts'
import type { SenderRecovery } from './recovery.ts'
import type { StateDB } from './state-db.ts'
import type { ChainStore } from './store.ts'
import { TxChecks } from './tx-checks.ts'
import { validateBlock } from './validate.ts'

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
export class BlockImporter {
  private readonly mutex = new Mutex()
  head: Block

  constructor(
    opts: { head: Block },
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
    this.head = opts.head
  }

  /**
   * Imports a block. `executed` is the producer's own execution result for a block it just built
   * on the current state (skips validating and executing it again).
   */
  importBlock(block: Block, executed?: ExecutedBlock): Promise<ImportResult> {
    return this.mutex.runExclusive(() => this.importLocked(block, executed))
  }

  /** Runs `fn` while no import runs (block production uses this to build on a stable head). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.runExclusive(fn)
  }

  /** Imports while already holding {@link exclusive}. */
  importLocked = async (block: Block, executed?: ExecutedBlock): Promise<ImportResult> => {
    const { store, stateDB, executor, engine, metrics } = this.modules
    const started = performance.now()
    const hash = block.hash()
    // Dev-mode impersonated transactions only: a rebuilt block holds fresh transaction objects.
    store.senderOverrides.applyInPlace(block.transactions)
    if (await store.hashToNumber.has(hash)) {
      executor.abandon()
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
      totalDifficulty = await this.totalDifficulty(block, parent)
      if (executed && equalsBytes(executed.block.hash(), hash)) {
        result = executed
      } else {
        // Senders go to the recovery workers first, so that they recover while the block is checked
        // and its first transactions execute.
        const checks = new TxChecks(block, this.modules.recovery)
        await validateBlock(block, parent)
        // Before the merge, Ethereum's proof-of-work rules; after it, the engine's.
        if (isProofOfWork(block.common)) await validateProofOfWork(block, parent, store)
        else await engine.validateHeader(block.header, parent.header)
        result = await executor.execute(block, parent, checks)
      }
    } catch (err) {
      executor.abandon()
      metrics?.blocksImported.inc({ status: 'invalid' })
      throw err
    }

    const batch = new WriteBatch()
    const size = store.putBlock(batch, block, result.receipts)
    if (totalDifficulty !== undefined) store.totalDifficulty.put(hash, totalDifficulty, batch)
    stateDB.drainInto(batch)

    const old = this.head
    let status: ImportStatus = 'side'
    let added: Block[] = []
    let removed: Block[] = []
    if (equalsBytes(block.header.parentHash, old.hash())) {
      status = 'head'
      added = [block]
    } else if (await engine.preferHead(block.header, old.header)) {
      status = 'head'
      ;({ added, removed } = await this.branches(old, block))
    }
    if (status === 'head') {
      for (const b of removed) store.unsetCanonical(batch, b)
      for (const b of added) store.setCanonical(batch, b)
      store.setHead(batch, 'latest', hash)
      await this.setCheckpoints(batch, block)
    }
    await batch.write(store.kv)
    store.remember(block, result.receipts)

    if (status === 'head') this.head = block
    this.observe(block, result.receipts, status, performance.now() - started, size)
    if (status === 'head') await this.announce(old, block, added, removed, result.receipts)
    return { status, block, removed }
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

  /** The blocks to add (oldest first) and remove (newest first) to move the head to `target`. */
  private async branches(from: Block, target: Block): Promise<{ added: Block[]; removed: Block[] }> {
    const { store } = this.modules
    const added: Block[] = [target]
    const removed: Block[] = []
    let a = from
    let b = await store.mustGetBlock(target.header.parentHash)
    while (a.header.number > b.header.number) {
      removed.push(a)
      a = await store.mustGetBlock(a.header.parentHash)
    }
    while (b.header.number > a.header.number) {
      added.unshift(b)
      b = await store.mustGetBlock(b.header.parentHash)
    }
    while (!equalsBytes(a.hash(), b.hash())) {
      removed.push(a)
      added.unshift(b)
      a = await store.mustGetBlock(a.header.parentHash)
      b = await store.mustGetBlock(b.header.parentHash)
    }
    return { added, removed }
  }

  private async setCheckpoints(batch: WriteBatch, head: Block): Promise<void> {
    const { store, engine } = this.modules
    for (const [name, n] of [
      ['safe', engine.safeNumber(head.header)],
      ['finalized', engine.finalizedNumber(head.header)],
    ] as const) {
      const hash = n === head.header.number ? head.hash() : await this.canonicalAncestor(head, n)
      if (hash) store.setHead(batch, name, hash)
    }
  }

  /** The hash at height `n` on the branch ending at `head` (canonical index not yet updated). */
  private async canonicalAncestor(head: Block, n: bigint): Promise<Uint8Array | undefined> {
    const { store } = this.modules
    let cur = head.header
    while (cur.number > n) {
      const parent = await store.getHeader(cur.parentHash)
      if (!parent) return undefined
      if (parent.number === n) return parent.hash()
      const canonical = await store.getCanonicalHash(parent.number)
      if (canonical && equalsBytes(canonical, parent.hash())) return store.getCanonicalHash(n)
      cur = parent
    }
    return cur.number === n ? cur.hash() : undefined
  }

  private observe(block: Block, receipts: StoredReceipt[], status: ImportStatus, ms: number, size: number): void {
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
    logger.info(
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
