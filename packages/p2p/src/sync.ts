import type { GossipChain } from '@cairn/chain'
import type { Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { missingParentsOf } from './dag-relay.ts'
import type { P2pMetrics } from './metrics.ts'
import { blockPenalty } from './penalty.ts'
import { PeerAction } from './scoring.ts'

/** A peer sync can use, with the head it announced. */
export interface SyncPeer {
  id: string
  headNumber: bigint
  /** Its head's total work, on a heaviest-work chain (proof of work): compared instead of the number. */
  headWork?: bigint
}

export interface RangeSyncModules {
  chain: GossipChain
  logger: Logger
  metrics: P2pMetrics | null
  /** Connected peers on this chain, with their announced heads. */
  peers: () => SyncPeer[]
  /** blocks_by_range: `count` encoded canonical blocks from `start`. */
  fetchRange: (peer: string, start: bigint, count: number) => Promise<Uint8Array[]>
  penalize: (peer: string, action: PeerAction, reason: string) => void
  /**
   * This node's head's total work on a heaviest-work chain (proof of work; undefined elsewhere or
   * not yet known): a peer is ahead when its head has more work, whatever its number.
   */
  localWork?: () => bigint | undefined
  /**
   * A block refused for DAG parents this node lacks (`meta.missingParents`: a GhostDAG block's
   * extra parents are side blocks, which blocks_by_range does not serve): fetch them and import
   * the block again (`DagRelay.fetch`).
   */
  fetchMissing?: (peer: string, block: Block | Uint8Array, missing: string[]) => Promise<void>
  /** Timers (injected in tests). */
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (timer: unknown) => void
}

export interface SyncState {
  startingBlock: bigint
  highestBlock: bigint
}

/** A range sync logs its progress at most this often (its blocks are logged at debug). */
const PROGRESS_LOG_MS = 8000

/** A batch asked of a peer: `count` blocks from `start`. */
interface Batch {
  peer: string
  start: bigint
  count: number
  blocks: Promise<Uint8Array[]>
  /** Its first chunk (see {@link chunked}), prepared while the last chunk of the batch before it imports. */
  head?: Promise<(Block | Uint8Array)[]>
}

/**
 * Blocks of a batch are decoded and their senders recovered (`chain.prepareBlocks`: one request to
 * the recovery workers) in chunks of at most this many encoded bytes, the next chunk while the
 * current one imports: a decoded block takes an order of magnitude more memory than its bytes, so
 * at most two chunks are held decoded (a batch of 128 full 30M-gas blocks would be ~250 MB).
 */
const PREPARE_BYTES = 256 * 1024

/**
 * A batch's blocks cut into chunks of at most `maxBytes` (at least one block each), the first of
 * at most an eighth of that: the import of a run's first batch starts once its first few blocks
 * are prepared, not all of them (a batch of 128 small blocks took ~130 ms to prepare with the
 * recovery workers cold, the import waiting).
 */
function chunked(blocks: Uint8Array[], maxBytes: number): Uint8Array[][] {
  const out: Uint8Array[][] = []
  let current: Uint8Array[] = []
  let size = 0
  for (const b of blocks) {
    const limit = out.length === 0 ? maxBytes / 8 : maxBytes
    if (current.length > 0 && size + b.length > limit) {
      out.push(current)
      current = []
      size = 0
    }
    current.push(b)
    size += b.length
  }
  if (current.length > 0) out.push(current)
  return out
}

/**
 * Range sync from several peers in parallel: while a peer announces a head above ours, the range
 * up to the highest head is cut into batches of `batch` blocks, spread over the best `parallel`
 * peers (the least busy first, each asked only for blocks up to its own head), with up to two
 * batches in flight per peer. A batch's blocks are decoded and their senders recovered (on the
 * recovery workers, one request per chunk of {@link PREPARE_BYTES}) one chunk ahead of their import,
 * the next batch's first chunk during the current batch's last, so that recovery overlaps
 * execution instead of each block waiting for its own. Batches are imported strictly in order through
 * `processBlock({source: 'sync'})`. A peer whose request fails or answers nothing is penalised
 * (mid) and left out of this run; one that serves an invalid block is penalised by the block's
 * error and left out; either way the rest of its batch is asked of another peer. A short answer
 * (the peer's chain is shorter than it said) has its remainder asked again. A first batch that
 * does not attach (our head is on another branch) restarts the pipeline a batch earlier, down to
 * the finalized block.
 *
 * A run that ends while a peer still announces a head above ours (every such peer was left out
 * of it for a failed request or a bad batch) is followed by another after `retryMs`, doubling
 * with each such run in a row that imported nothing (up to `maxRetryMs`): a sync is never left
 * waiting for the next event that happens to trigger it (a status refresh, a gossiped block),
 * which on a quiet chain may be the 30 s status interval away. A peer that keeps failing is
 * penalised by each run until its score disconnects it.
 */
export class RangeSync {
  private running: Promise<void> | null = null
  private state: SyncState | null = null
  private again = false
  private stopped = false
  private retryTimer: unknown
  /** Runs in a row that ended short of a peer's head without importing anything. */
  private fruitless = 0

  constructor(
    private readonly opts: {
      batch: number
      parallel?: number
      retryMs?: number
      maxRetryMs?: number
      /** Chunk size for decoding and recovery ahead of import (default {@link PREPARE_BYTES}). */
      prepareBytes?: number
    },
    private readonly modules: RangeSyncModules,
  ) {}

  /** Sync progress while syncing (eth_syncing), or null. */
  progress(): SyncState | null {
    if (!this.state) return null
    return this.state.highestBlock > this.modules.chain.head.header.number ? this.state : null
  }

  get active(): boolean {
    return this.running !== null
  }

  /** Starts a sync run if a peer is ahead (or asks the current run to look again). */
  trigger(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.cancelRetry()
    let imported = 0
    this.running = this.run()
      .then((n) => {
        imported = n
      })
      .catch((err) => this.modules.logger.warn({ err }, 'sync run failed'))
      .finally(() => {
        this.running = null
        this.state = null
        const again = this.again
        this.again = false
        if (this.stopped || this.ranked(new Set()).length === 0) {
          this.fruitless = 0
          return
        }
        if (again) {
          this.trigger()
          return
        }
        // A peer is still ahead, but this run left every such peer out: try again later.
        this.fruitless = imported > 0 ? 0 : this.fruitless + 1
        const base = this.opts.retryMs ?? 1000
        const ms = Math.min(this.opts.maxRetryMs ?? 30_000, base * 2 ** Math.max(0, this.fruitless - 1))
        this.modules.logger.debug({ retryMs: ms, fruitless: this.fruitless }, 'sync stopped short of a peer head')
        this.scheduleRetry(ms)
      })
  }

  /** No more runs (the network is stopping); a run under way ends at its next batch. */
  stop(): void {
    this.stopped = true
    this.cancelRetry()
  }

  /** Resolves when no sync run is under way. */
  async settled(): Promise<void> {
    while (this.running) await this.running
  }

  private scheduleRetry(ms: number): void {
    this.cancelRetry()
    const set =
      this.modules.setTimeout ??
      ((fn: () => void, delay: number) => {
        const t = setTimeout(fn, delay)
        t.unref()
        return t
      })
    this.retryTimer = set(() => {
      this.retryTimer = undefined
      this.trigger()
    }, ms)
  }

  private cancelRetry(): void {
    if (this.retryTimer === undefined) return
    const clear = this.modules.clearTimeout ?? ((t: unknown) => clearTimeout(t as NodeJS.Timeout))
    clear(this.retryTimer)
    this.retryTimer = undefined
  }

  /**
   * Peers ahead of our head, not excluded, best first (the best `parallel`): on a heaviest-work
   * chain ({@link RangeSyncModules.localWork}) those whose head has more total work, heaviest first
   * (a shorter branch may be the heavier one); elsewhere, or for a peer that does not say its
   * work, those with a higher head, highest first.
   */
  private ranked(excluded: Set<string>): SyncPeer[] {
    const head = this.modules.chain.head.header.number
    const work = this.modules.localWork?.()
    const byWork = (p: SyncPeer): boolean => work !== undefined && p.headWork !== undefined
    const ahead = (p: SyncPeer): boolean =>
      byWork(p) ? (p.headWork as bigint) > (work as bigint) : p.headNumber > head
    const order = (a: SyncPeer, b: SyncPeer): number => {
      const [x, y] =
        byWork(a) && byWork(b) ? [a.headWork as bigint, b.headWork as bigint] : [a.headNumber, b.headNumber]
      return x === y ? 0 : x > y ? -1 : 1
    }
    return this.modules
      .peers()
      .filter((p) => !excluded.has(p.id) && ahead(p))
      .sort(order)
      .slice(0, this.opts.parallel ?? 4)
  }

  /** Asks the least busy peer that has `start` for up to `count` blocks (clipped to its head). */
  private ask(peers: SyncPeer[], queue: Batch[], start: bigint, count: number): Batch | undefined {
    let best: SyncPeer | undefined
    let bestLoad = Number.POSITIVE_INFINITY
    for (const p of peers) {
      if (p.headNumber < start) continue
      const load = queue.filter((b) => b.peer === p.id).length
      // Prefer a peer holding the whole batch; among them, the least busy.
      const covers = p.headNumber >= start + BigInt(count) - 1n ? 0 : 0.5
      if (load + covers < bestLoad) {
        best = p
        bestLoad = load + covers
      }
    }
    if (!best) return undefined
    const n = Number(min(BigInt(count), best.headNumber - start + 1n))
    const blocks = this.modules.fetchRange(best.id, start, n)
    blocks.catch(() => {})
    return { peer: best.id, start, count: n, blocks }
  }

  /**
   * `batch`'s blocks (`blocks`, its answer) in order, prepared a chunk ahead: chunk k + 1 while
   * chunk k imports, and the first chunk of the batch after it (`after()`, asked then) while its
   * last one does. Each with the block after it in its chunk, if decoded (executed ahead while
   * this one commits: `processBlock`'s `next`).
   */
  private async *prepared(
    batch: Batch,
    blocks: Uint8Array[],
    after: () => Batch | undefined,
  ): AsyncGenerator<[Block | Uint8Array, Block | undefined]> {
    const { chain } = this.modules
    const parts = chunked(blocks, this.prepareBytes)
    let ready = batch.head ?? chain.prepareBlocks(parts[0] as Uint8Array[])
    for (let c = 0; c < parts.length; c++) {
      const chunk = await ready
      if (c + 1 < parts.length) ready = chain.prepareBlocks(parts[c + 1] as Uint8Array[])
      else this.prepareHead(after())
      for (let i = 0; i < chunk.length; i++) {
        const next = chunk[i + 1]
        yield [chunk[i] as Block | Uint8Array, next instanceof Uint8Array ? undefined : next]
      }
    }
  }

  /** Starts preparing the first chunk of `batch` once its blocks arrive (if not already). */
  private prepareHead(batch: Batch | undefined): void {
    if (batch === undefined || batch.head !== undefined) return
    const head = batch.blocks.then((bytes) =>
      this.modules.chain.prepareBlocks(chunked(bytes, this.prepareBytes)[0] ?? []),
    )
    head.catch(() => {})
    batch.head = head
  }

  private get prepareBytes(): number {
    return this.opts.prepareBytes ?? PREPARE_BYTES
  }

  /** One run; resolves to the number of blocks it imported. */
  private async run(): Promise<number> {
    const { chain, logger, metrics, penalize } = this.modules
    const excluded = new Set<string>()
    const started = performance.now()
    let logged = started
    let imported = 0
    let queue: Batch[] = []
    let next = chain.head.header.number + 1n
    let steppedBack = false
    for (;;) {
      this.again = false
      if (this.stopped) break
      const peers = this.ranked(excluded)
      if (peers.length === 0) break
      const target = (peers[0] as SyncPeer).headNumber
      if (!steppedBack && imported === 0 && queue.length === 0 && next > target) {
        // A heavier peer whose head is not above ours (heaviest-work chains): its branch is asked
        // from a batch below its head; a batch that does not attach steps back further, as below.
        steppedBack = true
        const finalized = (await chain.checkpoint('finalized')).header.number
        const from = target - BigInt(this.opts.batch) + 1n
        next = from > finalized ? from : finalized + 1n
      }
      this.state ??= { startingBlock: chain.head.header.number, highestBlock: target }
      if (target > this.state.highestBlock) this.state.highestBlock = target
      metrics?.syncHighest.set(Number(this.state.highestBlock))
      // Keep up to two batches in flight per peer.
      while (queue.length < peers.length * 2 && next <= target) {
        const b = this.ask(peers, queue, next, Number(min(BigInt(this.opts.batch), target - next + 1n)))
        if (!b) break
        queue.push(b)
        next = b.start + BigInt(b.count)
      }
      const batch = queue.shift()
      if (!batch) break
      // Asks another peer for the rest of a batch (put first: batches import in order).
      const retry = (from: bigint, count: number) => {
        const again = this.ask(this.ranked(excluded), queue, from, count)
        if (again) queue.unshift(again)
        else {
          queue = []
          next = from
        }
      }
      if (excluded.has(batch.peer)) {
        // Asked before the peer was left out: not trusted now.
        retry(batch.start, batch.count)
        continue
      }
      let blocks: Uint8Array[]
      try {
        blocks = await batch.blocks
      } catch (err) {
        logger.debug({ peer: batch.peer, err }, 'range request failed')
        penalize(batch.peer, PeerAction.MidToleranceError, 'sync_request_failed')
        excluded.add(batch.peer)
        retry(batch.start, batch.count)
        continue
      }
      if (blocks.length === 0) {
        penalize(batch.peer, PeerAction.MidToleranceError, 'sync_empty_response')
        excluded.add(batch.peer)
        retry(batch.start, batch.count)
        continue
      }
      let done = 0
      let restart = false
      // Blocks before a failing one all imported: `done` is its index in the batch.
      for await (const [block, child] of this.prepared(batch, blocks, () => queue[0])) {
        let r = await chain.processBlock(block, {
          source: 'sync',
          peer: batch.peer,
          ...(child ? { next: child } : {}),
        })
        const missing = r.status === 'error' ? missingParentsOf(r.error) : undefined
        if (missing && this.modules.fetchMissing) {
          await this.modules.fetchMissing(batch.peer, block, missing)
          r = await chain.processBlock(block, { source: 'sync', peer: batch.peer })
        }
        if (r.status === 'imported' || r.status === 'known') {
          if (r.status === 'imported') {
            imported++
            metrics?.syncBlocks.inc()
          }
          done++
          continue
        }
        if (r.status === 'unknownParent' && done === 0) {
          // Our head is on another branch than the peer's: step back toward the common ancestor.
          const finalized = (await chain.checkpoint('finalized')).header.number
          const back = batch.start - BigInt(this.opts.batch)
          if (batch.start <= finalized + 1n) {
            penalize(batch.peer, PeerAction.LowToleranceError, 'sync_unrelated_chain')
            excluded.add(batch.peer)
          }
          queue = []
          next = back > finalized ? back : finalized + 1n
          restart = true
        } else if (r.status === 'error' && r.error.penalize) {
          logger.warn({ peer: batch.peer, err: r.error }, 'peer served an invalid block for sync')
          penalize(batch.peer, blockPenalty(r.error), `sync_${r.error.code}`)
          excluded.add(batch.peer)
        } else if (r.status === 'unknownParent') {
          // Blocks that do not follow each other: not what was asked.
          penalize(batch.peer, PeerAction.LowToleranceError, 'sync_bad_batch')
          excluded.add(batch.peer)
        } else {
          // This node's fault, not the peer's (a transient error): said, since the run stops short here.
          if (r.status === 'error') logger.warn({ peer: batch.peer, err: r.error }, 'cannot import a block from sync')
          excluded.add(batch.peer)
        }
        break
      }
      if (performance.now() - logged >= PROGRESS_LOG_MS && imported > 0) {
        // As geth's "Imported new chain segment": the blocks are logged at debug one by one.
        logged = performance.now()
        logger.info(
          {
            imported,
            head: chain.head.header.number.toString(),
            highest: this.state.highestBlock.toString(),
            blocksPerSecond: Math.round((imported * 1000) / (logged - started)),
          },
          'range sync progress',
        )
      }
      if (restart) continue
      if (done < batch.count) retry(batch.start + BigInt(done), batch.count - done)
    }
    if (imported > 0) {
      const seconds = (performance.now() - started) / 1000
      logger.info(
        { imported, seconds: Number(seconds.toFixed(2)), head: chain.head.header.number.toString() },
        'range sync done',
      )
    }
    return imported
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
