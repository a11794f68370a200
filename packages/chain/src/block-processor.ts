import { bytesToHex, CairnError, type CairnErrorCode, type ErrorFault, isCairnError, type Logger } from '@cairn/utils'
import type { Block, BlockBytes } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { LRUCache } from 'lru-cache'
import { decodeBlock } from './block-decode.ts'
import type { ChainEngine } from './engine.ts'
import { ChainErrorCode } from './errors.ts'
import type { ExecutedBlock } from './executor.ts'
import type { BlockImporter } from './importer.ts'
import type { ChainMetrics } from './metrics.ts'
import { isProofOfWork } from './pow.ts'
import type { SenderRecovery } from './recovery.ts'
import type { ChainStore } from './store.ts'
import { headerAgainstParent } from './validate.ts'

/** Where a block came from: the local producer, an RPC call, a peer's gossip, sync, or a file. */
export type BlockSource = 'local' | 'rpc' | 'gossip' | 'sync' | 'file'

export interface ProcessOptions {
  source: BlockSource
  /** The peer that sent it (gossip, sync): who a {@link BlockError} with `penalize` blames. */
  peer?: string
  /** The local producer's own execution of this block (source `local` only): not executed again. */
  executed?: ExecutedBlock
  /**
   * The child the caller processes right after this block (a range sync's or a file's next one;
   * sources `sync` and `file`): executed ahead while this one commits, used once it passes its own
   * checks (`BlockImporter.importBlock`'s `next`).
   */
  next?: Block
}

/**
 * What to do with a block that was not imported, and with whoever sent it (Lodestar's
 * `GossipAction` / `PeerAction`): `reject` it (do not forward it; it is invalid) or `ignore` it
 * (not now: a queue full, a transient fault), and whether the peer that sent it is to blame.
 */
export class BlockError extends CairnError {
  override readonly name = 'BlockError'
  constructor(
    code: CairnErrorCode,
    message: string,
    readonly action: 'reject' | 'ignore',
    readonly penalize: boolean,
    opts: { fault?: ErrorFault; cause?: unknown } = {},
  ) {
    super(code, message, { fault: opts.fault ?? (penalize ? 'peer' : 'transient'), ...opts })
  }
}

/** The outcome of {@link BlockProcessor.processBlock}. Only a {@link BlockError} is a failure. */
export type ProcessResult =
  | { status: 'imported'; block: Block; head: boolean; removed: Block[] }
  | { status: 'known'; block: Block }
  /** The parent is not stored: the block waits in the orphan pool until it is. */
  | { status: 'unknownParent'; block: Block; parentHash: Uint8Array }
  /** The timestamp is further ahead of the local clock than allowed; try again later. */
  | { status: 'future'; block: Block; aheadSeconds: bigint }
  | { status: 'error'; error: BlockError }

export interface BlockProcessorOptions {
  /** Largest encoded block accepted (bytes). */
  maxBlockBytes: number
  /** Most blocks waiting for a parent; the oldest are dropped first. */
  maxOrphans: number
  /** Most bad block hashes remembered. */
  maxBadBlocks: number
  /** Most blocks queued for import; more are ignored (not the sender's fault). */
  maxQueue: number
  /** How far ahead of the local clock a timestamp may be (seconds). */
  maxFutureSeconds: number
}

export const DEFAULT_BLOCK_PROCESSOR_OPTIONS: BlockProcessorOptions = {
  maxBlockBytes: 10 * 1024 * 1024,
  maxOrphans: 256,
  maxBadBlocks: 1024,
  maxQueue: 1024,
  maxFutureSeconds: 15,
}

/** Error codes of the front door (beside the chain's: CHAIN_BLOCK_INVALID, CHAIN_EXECUTION_MISMATCH…). */
export const BlockErrorCode = {
  DECODE: 'CHAIN_BLOCK_DECODE',
  TOO_LARGE: 'CHAIN_BLOCK_TOO_LARGE',
  KNOWN_BAD: 'CHAIN_BLOCK_KNOWN_BAD',
  BAD_ANCESTOR: 'CHAIN_BLOCK_BAD_ANCESTOR',
  QUEUE_FULL: 'CHAIN_IMPORT_QUEUE_FULL',
  NOT_IMPORTED: 'CHAIN_BLOCK_NOT_IMPORTED',
} as const
export type BlockErrorCode = (typeof BlockErrorCode)[keyof typeof BlockErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    blocks: BlockErrorCode
  }
}

/** The result of the cheap checks: a decoded block worth importing, or the answer already. */
export type PreValidation = { status: 'valid'; block: Block } | Exclude<ProcessResult, { status: 'imported' }>

/**
 * The one front door for blocks from outside (gossip, sync, RPC, a file): decode with a size
 * limit → cheap checks ({@link preValidate}: bad-block cache, known, parent known, timestamp not
 * in the future, header rules against the parent, the engine's seal) → the import queue (one at
 * a time: execute, commit, head, events) → any orphans that were waiting for this block.
 * It answers with a typed outcome and never throws for a bad block: a {@link BlockError} says
 * whether the sender is to blame. Invalid blocks are remembered (hash → reason) and their
 * descendants refused without execution.
 */
export class BlockProcessor {
  private readonly bad: LRUCache<string, string>
  /** Orphans by their hash, in arrival order (the oldest is dropped first). */
  private readonly orphans = new Map<string, { block: Block; opts: ProcessOptions }>()
  private queue: Promise<unknown> = Promise.resolve()
  private queued = 0

  constructor(
    private readonly opts: BlockProcessorOptions,
    private readonly modules: {
      store: ChainStore
      importer: BlockImporter
      engine: ChainEngine
      logger: Logger
      metrics: ChainMetrics | null
      /** Seconds since the epoch (injected in tests). */
      now: () => number
      /** Sender recovery off the main thread (see {@link prepare}); absent: recovered at execution. */
      recovery?: SenderRecovery
    },
  ) {
    this.bad = new LRUCache({ max: opts.maxBadBlocks })
  }

  /**
   * Gets blocks that will be imported in a row (a range sync's batch) ready ahead of
   * {@link processBlock}: decodes them and recovers the senders of all their transactions in one
   * request to the recovery workers, so that a batch's recovery overlaps the execution of the
   * batch before it instead of each block waiting for its own. Resolves once the senders are
   * recovered, to the blocks; an input that does not decode (or is over the size limit) is
   * returned as it was, for `processBlock` to refuse with the usual error.
   */
  async prepare(inputs: Uint8Array[]): Promise<(Block | Uint8Array)[]> {
    const out = inputs.map((input) => {
      const block = this.decode(input)
      return block instanceof BlockError ? input : block
    })
    const { recovery } = this.modules
    if (recovery) {
      const txs = out.flatMap((b) => (b instanceof Uint8Array ? [] : b.transactions))
      // A failed recovery leaves the keys unset: execution recovers them as it would have.
      await recovery.prepare(txs).catch(() => undefined)
    }
    return out
  }

  /** Blocks waiting for their parent. */
  get orphanCount(): number {
    return this.orphans.size
  }

  /** Why the block with this hash was refused, if it was. */
  badReason(hash: Uint8Array): string | undefined {
    return this.bad.get(bytesToHex(hash))
  }

  /** Imports a block from outside; see the class doc. */
  processBlock(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    const { metrics } = this.modules
    if (this.queued >= this.opts.maxQueue) {
      metrics?.importQueueDropped.inc()
      return Promise.resolve(
        failed(new BlockError(BlockErrorCode.QUEUE_FULL, 'the block import queue is full', 'ignore', false)),
      )
    }
    const enqueued = performance.now()
    this.queued++
    metrics?.importQueueLength.set(this.queued)
    const run = this.queue.then(async () => {
      metrics?.importQueueWaitSeconds.observe((performance.now() - enqueued) / 1000)
      try {
        return await this.processNow(input, opts)
      } finally {
        this.queued--
        metrics?.importQueueLength.set(this.queued)
      }
    })
    this.queue = run.catch(() => {})
    return run
  }

  /**
   * The cheap checks gossip runs before forwarding, with no execution: decoding (size limit), the
   * bad-block cache, known, parent known, the timestamp, the header against its parent, and the
   * engine's header rules (seal, proposer).
   */
  async preValidate(input: Block | Uint8Array, source: BlockSource = 'gossip'): Promise<PreValidation> {
    const { store, engine } = this.modules
    const block = this.decode(input)
    if (block instanceof BlockError) return failed(block)
    const hash = bytesToHex(block.hash())
    const reason = this.bad.get(hash)
    if (reason !== undefined) {
      return failed(new BlockError(BlockErrorCode.KNOWN_BAD, `block ${hash} is known bad: ${reason}`, 'reject', true))
    }
    const parentKey = bytesToHex(block.header.parentHash)
    const parentReason = this.bad.get(parentKey)
    if (parentReason !== undefined) {
      const why = `descends from bad block ${parentKey}`
      this.markBad(hash, why)
      return failed(new BlockError(BlockErrorCode.BAD_ANCESTOR, `block ${hash} ${why}`, 'reject', true))
    }
    if (await store.hashToNumber.has(block.hash())) return { status: 'known', block }
    // Blocks from peers only: a file or an RPC caller may hand over a dev chain moved ahead in time.
    if (source === 'gossip' || source === 'sync') {
      const ahead = block.header.timestamp - BigInt(Math.floor(this.modules.now()))
      if (ahead > BigInt(this.opts.maxFutureSeconds)) return { status: 'future', block, aheadSeconds: ahead }
    }
    const parent = await store.getHeader(block.header.parentHash)
    if (!parent) return { status: 'unknownParent', block, parentHash: block.header.parentHash }
    const why = headerAgainstParent(block.header, parent)
    if (why !== undefined)
      return this.refuse(block, new CairnError(ChainErrorCode.BLOCK_INVALID, why, { fault: 'caller' }))
    if (!isProofOfWork(block.common)) {
      try {
        await engine.validateHeader(block.header, parent, this.modules.importer.headerContext)
      } catch (err) {
        return this.refuse(block, err)
      }
    }
    return { status: 'valid', block }
  }

  private decode(input: Block | Uint8Array): Block | BlockError {
    if (!(input instanceof Uint8Array)) return input
    if (input.length > this.opts.maxBlockBytes) {
      return new BlockError(
        BlockErrorCode.TOO_LARGE,
        `block of ${input.length} bytes exceeds the limit of ${this.opts.maxBlockBytes}`,
        'reject',
        true,
      )
    }
    try {
      return decodeBlock(RLP.decode(input) as unknown as BlockBytes, this.modules.store.commons)
    } catch (err) {
      return new BlockError(BlockErrorCode.DECODE, `cannot decode block: ${(err as Error).message}`, 'reject', true, {
        cause: err,
      })
    }
  }

  private async processNow(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    const first = await this.importOne(input, opts)
    if (first.status === 'imported' || first.status === 'known') await this.adoptOrphans(first.block)
    return first
  }

  private async importOne(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    const { importer, logger } = this.modules
    const pre = await this.preValidate(input, opts.source)
    if (pre.status === 'unknownParent') {
      this.addOrphan(pre.block, opts)
      return pre
    }
    if (pre.status !== 'valid') return pre
    const { block } = pre
    try {
      const executed = opts.source === 'local' ? opts.executed : undefined
      // Dev-mode impersonation applies only to what this node itself produced or was handed by RPC.
      const senderOverrides = opts.source === 'local' || opts.source === 'rpc'
      // A range sync logs its progress per batch, not a line per block.
      const next = opts.source === 'sync' || opts.source === 'file' ? opts.next : undefined
      const r = await importer.importBlock(block, executed, {
        senderOverrides,
        quiet: opts.source === 'sync',
        ...(next ? { next } : {}),
      })
      if (r.status === 'known') return { status: 'known', block }
      return { status: 'imported', block, head: r.status === 'head', removed: r.removed }
    } catch (err) {
      if (isCairnError(err, ChainErrorCode.PARENT_UNKNOWN)) {
        this.addOrphan(block, opts)
        return { status: 'unknownParent', block, parentHash: block.header.parentHash }
      }
      const refused = this.refuse(block, err)
      logger.warn(
        {
          hash: bytesToHex(block.hash()),
          number: Number(block.header.number),
          source: opts.source,
          peer: opts.peer,
          err,
        },
        'block refused',
      )
      return refused
    }
  }

  /**
   * A block that failed: the sender's fault (an invalid block: remembered as bad, and the peer
   * penalized) or not (a transient fault here: ignored, not remembered).
   */
  private refuse(block: Block, err: unknown): { status: 'error'; error: BlockError } {
    const hash = bytesToHex(block.hash())
    const message = err instanceof Error ? err.message : String(err)
    if (isCairnError(err) && (err.fault === 'caller' || err.fault === 'peer')) {
      this.markBad(hash, message)
      this.modules.metrics?.badBlocks.inc({ code: err.code })
      return failed(new BlockError(err.code, message, 'reject', true, { cause: err }))
    }
    const code = isCairnError(err) ? err.code : BlockErrorCode.NOT_IMPORTED
    return failed(new BlockError(code, message, 'ignore', false, { cause: err, fault: 'transient' }))
  }

  private markBad(hash: string, reason: string): void {
    this.bad.set(hash, reason)
    // Orphans waiting on a bad block are bad too.
    for (const [key, o] of this.orphans) {
      if (bytesToHex(o.block.header.parentHash) === hash) {
        this.orphans.delete(key)
        this.markBad(key, `descends from bad block ${hash}`)
      }
    }
    this.modules.metrics?.orphanBlocks.set(this.orphans.size)
  }

  private addOrphan(block: Block, opts: ProcessOptions): void {
    const key = bytesToHex(block.hash())
    if (this.orphans.has(key)) return
    this.orphans.set(key, { block, opts })
    while (this.orphans.size > this.opts.maxOrphans) {
      this.orphans.delete(this.orphans.keys().next().value as string)
    }
    this.modules.metrics?.orphanBlocks.set(this.orphans.size)
  }

  /** Imports the orphans that were waiting for `parent`, and theirs, breadth first. */
  private async adoptOrphans(parent: Block): Promise<void> {
    const ready = [parent.hash()]
    while (ready.length > 0) {
      const parentKey = bytesToHex(ready.shift() as Uint8Array)
      const children = [...this.orphans].filter(([, o]) => bytesToHex(o.block.header.parentHash) === parentKey)
      for (const [key, o] of children) {
        this.orphans.delete(key)
        this.modules.metrics?.orphanBlocks.set(this.orphans.size)
        const r = await this.importOne(o.block, o.opts)
        if (r.status === 'imported' || r.status === 'known') ready.push(o.block.hash())
      }
    }
  }
}

function failed(error: BlockError): { status: 'error'; error: BlockError } {
  return { status: 'error', error }
}
