import type { Chain } from '@cairn/chain'
import type { Logger } from '@cairn/utils'
import type { P2pMetrics } from './metrics.ts'
import { blockPenalty } from './penalty.ts'
import { PeerAction } from './scoring.ts'

/** A peer sync can use, with the head it announced. */
export interface SyncPeer {
  id: string
  headNumber: bigint
}

export interface RangeSyncModules {
  chain: Chain
  logger: Logger
  metrics: P2pMetrics | null
  /** Connected peers on this chain, with their announced heads. */
  peers: () => SyncPeer[]
  /** blocks_by_range: `count` encoded canonical blocks from `start`. */
  fetchRange: (peer: string, start: bigint, count: number) => Promise<Uint8Array[]>
  penalize: (peer: string, action: PeerAction, reason: string) => void
}

export interface SyncState {
  startingBlock: bigint
  highestBlock: bigint
}

/** A batch asked of a peer: `count` blocks from `start`. */
interface Batch {
  peer: string
  start: bigint
  count: number
  blocks: Promise<Uint8Array[]>
}

/**
 * Range sync from several peers in parallel: while a peer announces a head above ours, the range
 * up to the highest head is cut into batches of `batch` blocks, spread over the best `parallel`
 * peers (the least busy first, each asked only for blocks up to its own head), with up to two
 * batches in flight per peer. Batches are imported strictly in order through
 * `processBlock({source: 'sync'})`. A peer whose request fails or answers nothing is penalised
 * (mid) and left out of this run; one that serves an invalid block is penalised by the block's
 * error and left out; either way the rest of its batch is asked of another peer. A short answer
 * (the peer's chain is shorter than it said) has its remainder asked again. A first batch that
 * does not attach (our head is on another branch) restarts the pipeline a batch earlier, down to
 * the finalized block.
 */
export class RangeSync {
  private running: Promise<void> | null = null
  private state: SyncState | null = null
  private again = false

  constructor(
    private readonly opts: { batch: number; parallel?: number },
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
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.run()
      .catch((err) => this.modules.logger.warn({ err }, 'sync run failed'))
      .finally(() => {
        this.running = null
        this.state = null
        if (this.again) {
          this.again = false
          if (this.ranked(new Set()).length > 0) this.trigger()
        }
      })
  }

  /** Resolves when no sync run is under way. */
  async settled(): Promise<void> {
    while (this.running) await this.running
  }

  /** Peers ahead of our head, not excluded, highest head first (the best `parallel`). */
  private ranked(excluded: Set<string>): SyncPeer[] {
    const head = this.modules.chain.head.header.number
    return this.modules
      .peers()
      .filter((p) => !excluded.has(p.id) && p.headNumber > head)
      .sort((a, b) => (a.headNumber === b.headNumber ? 0 : a.headNumber > b.headNumber ? -1 : 1))
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

  private async run(): Promise<void> {
    const { chain, logger, metrics, penalize } = this.modules
    const excluded = new Set<string>()
    const started = performance.now()
    let imported = 0
    let queue: Batch[] = []
    let next = chain.head.header.number + 1n
    for (;;) {
      this.again = false
      const peers = this.ranked(excluded)
      if (peers.length === 0) break
      const target = (peers[0] as SyncPeer).headNumber
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
      for (const [i, bytes] of blocks.entries()) {
        const r = await chain.processBlock(bytes, { source: 'sync', peer: batch.peer })
        if (r.status === 'imported' || r.status === 'known') {
          if (r.status === 'imported') {
            imported++
            metrics?.syncBlocks.inc()
          }
          done++
          continue
        }
        if (r.status === 'unknownParent' && i === 0) {
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
          excluded.add(batch.peer)
        }
        break
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
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
