import { bytesToHex, equalsBytes, isCairnError, type Logger } from '@cairn/utils'
import type { Block, BlockBytes } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { LRUCache } from 'lru-cache'
import type { ChainEngine } from '../engine.ts'
import { ChainErrorCode } from '../errors.ts'
import type { ExecutedBlock, Executor } from '../execution/executor.ts'
import { isProofOfWork } from '../execution/pow-era.ts'
import type { SenderRecovery } from '../execution/recovery.ts'
import type { ChainMetrics } from '../metrics.ts'
import { decodeBlock } from '../store/block-decode.ts'
import type { ChainStore } from '../store/store.ts'
import { BlockError, BlockErrorCode, blockError, classifyBlockFailure } from './block-error.ts'
import {
  type BlockSource,
  type BlockVerifier,
  checkAndExecute,
  fromPeers,
  tooFarAhead,
  type VerifyOptions,
  type VerifyResult,
} from './block-verifier.ts'
import type { BlockImporter } from './importer.ts'
import { headerAgainstParent } from './validate.ts'

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
  /**
   * The caller ran {@link BlockProcessor.preValidate} on this very block object just before and
   * it was `valid` (gossip's verdict): its checks are not run again, only the bad-block cache is
   * consulted (the importer still finds a block stored meanwhile `known`). Ignored for a block
   * object the front door did not find valid.
   */
  preValidated?: boolean
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

/** The result of the cheap checks: a decoded block worth importing, or the answer already. */
export type PreValidation = { status: 'valid'; block: Block } | Exclude<ProcessResult, { status: 'imported' }>

/**
 * The one front door for blocks from outside (gossip, sync, RPC, a file): decode with a size
 * limit → cheap checks ({@link preValidate}: bad-block cache, known, parent known, timestamp not
 * in the future, header rules against the parent, the engine's seal) → the import queue (one at
 * a time: execute, commit, head, events) → any orphans that were waiting for this block.
 * It answers with a typed outcome and never throws for a bad block: a {@link BlockError} says
 * whether the sender is to blame. Invalid blocks are remembered (hash → reason) and their
 * descendants refused without execution. It is also the chain's {@link BlockVerifier} (an engine's
 * proposals: the same cache and checks, and the importer's execution, without the commit).
 */
export class BlockProcessor implements BlockVerifier {
  private readonly bad: LRUCache<string, string>
  /** Blocks {@link preValidate} found valid (see `ProcessOptions.preValidated`). */
  private readonly validBlocks = new WeakSet<Block>()
  /** Orphans by their hash, in arrival order (the oldest is dropped first). */
  private readonly orphans = new Map<string, { block: Block; opts: ProcessOptions }>()
  private queue: Promise<unknown> = Promise.resolve()
  private queued = 0

  constructor(
    private readonly opts: BlockProcessorOptions,
    private readonly modules: {
      store: ChainStore
      importer: BlockImporter
      executor: Executor
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
      return Promise.resolve(failed(blockError(BlockErrorCode.QUEUE_FULL, 'the block import queue is full')))
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
    const block = this.screen(input)
    if (block instanceof BlockError) return failed(block)
    if (await store.hashToNumber.has(block.hash())) return { status: 'known', block }
    // Blocks from peers only: a file or an RPC caller may hand over a dev chain moved ahead in time.
    // (The parent is not read yet: an unknown one waits in the orphan pool only if the block is not.)
    if (fromPeers(source)) {
      const ahead = tooFarAhead(block.header, this.modules.now(), this.opts.maxFutureSeconds)
      if (ahead !== undefined) return { status: 'future', block, aheadSeconds: ahead }
    }
    const parent = await store.getHeader(block.header.parentHash)
    if (!parent) return { status: 'unknownParent', block, parentHash: block.header.parentHash }
    const why = headerAgainstParent(block.header, parent, {
      baseFeeFloor: engine.baseFeeFloor === true,
      dagHeaders: engine.dagHeaders === true,
    })
    if (why !== undefined) return this.refuse(block, blockError(ChainErrorCode.BLOCK_INVALID, why))
    if (!isProofOfWork(block.common) || engine.sealsProofOfWork === true) {
      try {
        await engine.validateHeader(block.header, parent, this.modules.importer.headerContext)
      } catch (err) {
        return this.refuse(block, err)
      }
    }
    this.validBlocks.add(block)
    return { status: 'valid', block }
  }

  /**
   * {@link BlockVerifier.verify}: the front door's checks and policies (this bad-block cache, the
   * size limit, the clock) and the importer's checks and execution ({@link checkAndExecute}), no
   * commit. A block found invalid is remembered here as bad, as {@link processBlock} would.
   */
  async verify(input: Block | Uint8Array, parent: Block, opts: VerifyOptions): Promise<VerifyResult> {
    const block = this.screen(input, opts.decode)
    if (block instanceof BlockError) return { ok: false, error: block }
    if (!equalsBytes(block.header.parentHash, parent.hash())) {
      const error = blockError(
        BlockErrorCode.PARENT_MISMATCH,
        `block ${bytesToHex(block.hash())} does not descend from ${bytesToHex(parent.hash())}`,
      )
      return { ok: false, error }
    }
    const max = opts.maxFutureSeconds ?? (fromPeers(opts.source) ? this.opts.maxFutureSeconds : undefined)
    if (max !== undefined) {
      const ahead = tooFarAhead(block.header, (opts.now ?? this.modules.now)(), max, parent.header)
      if (ahead !== undefined) {
        const message = `block ${bytesToHex(block.hash())} is ${ahead} s ahead of the clock (at most ${max})`
        return { ok: false, error: blockError(BlockErrorCode.FUTURE, message) }
      }
    }
    const { store, engine, executor, importer, recovery } = this.modules
    try {
      const executed = await checkAndExecute(
        block,
        parent,
        { store, engine, executor, headerContext: importer.headerContext, recovery },
        opts.prepareSenders ? { prepareSenders: opts.prepareSenders } : {},
      )
      return { ok: true, executed }
    } catch (err) {
      // Not logged here: the caller knows what the block was for.
      return { ok: false, error: this.refuse(block, err).error }
    }
  }

  /**
   * Decoding (with the size limit; `decode` the caller's decoder) and the bad-block cache: a block
   * known bad, or whose parent is (then it is remembered bad too), is refused before anything else.
   */
  private screen(input: Block | Uint8Array, decode?: (bytes: Uint8Array) => Block): Block | BlockError {
    const block = this.decode(input, decode)
    if (block instanceof BlockError) return block
    const hash = bytesToHex(block.hash())
    const reason = this.bad.get(hash)
    if (reason !== undefined) return blockError(BlockErrorCode.KNOWN_BAD, `block ${hash} is known bad: ${reason}`)
    const parentKey = bytesToHex(block.header.parentHash)
    if (this.bad.get(parentKey) !== undefined) {
      const why = `descends from bad block ${parentKey}`
      this.markBad(hash, why)
      return blockError(BlockErrorCode.BAD_ANCESTOR, `block ${hash} ${why}`)
    }
    return block
  }

  private decode(input: Block | Uint8Array, decode?: (bytes: Uint8Array) => Block): Block | BlockError {
    if (!(input instanceof Uint8Array)) return input
    if (input.length > this.opts.maxBlockBytes) {
      return blockError(
        BlockErrorCode.TOO_LARGE,
        `block of ${input.length} bytes exceeds the limit of ${this.opts.maxBlockBytes}`,
      )
    }
    try {
      return decode
        ? decode(input)
        : decodeBlock(RLP.decode(input) as unknown as BlockBytes, this.modules.store.commons)
    } catch (err) {
      return blockError(BlockErrorCode.DECODE, `cannot decode block: ${(err as Error).message}`, { cause: err })
    }
  }

  private async processNow(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    const first = await this.importOne(input, opts)
    if (first.status === 'imported' || first.status === 'known') await this.adoptOrphans(first.block)
    return first
  }

  private async importOne(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    const { importer } = this.modules
    const pre = await this.preValidateOnce(input, opts)
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
      this.log(block, opts, err)
      return refused
    }
  }

  /** {@link preValidate}, or only its bad-block cache for a block it just found valid (`opts.preValidated`). */
  private async preValidateOnce(input: Block | Uint8Array, opts: ProcessOptions): Promise<PreValidation> {
    if (!opts.preValidated || input instanceof Uint8Array || !this.validBlocks.has(input)) {
      return this.preValidate(input, opts.source)
    }
    const block = this.screen(input)
    return block instanceof BlockError ? failed(block) : { status: 'valid', block }
  }

  private log(block: Block, opts: { source: BlockSource; peer?: string }, err: unknown): void {
    this.modules.logger.warn(
      {
        hash: bytesToHex(block.hash()),
        number: Number(block.header.number),
        source: opts.source,
        peer: opts.peer,
        err,
      },
      'block refused',
    )
  }

  /**
   * A block that failed: the sender's fault (an invalid block: remembered as bad, and the peer
   * penalized) or not (a transient fault here: ignored, not remembered).
   */
  private refuse(block: Block, err: unknown): { status: 'error'; error: BlockError } {
    const hash = bytesToHex(block.hash())
    const message = err instanceof Error ? err.message : String(err)
    const { code, action, penalize } = classifyBlockFailure(err)
    if (action === 'reject') {
      this.markBad(hash, message)
      this.modules.metrics?.badBlocks.inc({ code })
    }
    return failed(new BlockError(code, message, action, penalize, { cause: err }))
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

  private addOrphan(block: Block, { preValidated: _, ...opts }: ProcessOptions): void {
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
