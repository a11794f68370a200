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

/**
 * Range sync: while a peer announces a head above ours, ask the best peer for the next batch of
 * canonical blocks and import them one by one through `processBlock({source: 'sync'})`, with the
 * next batch already requested while this one imports. A peer that serves an invalid block is
 * penalised and left out of this run, and the batch is asked of another. A batch that does not
 * attach (our head is on another branch) makes the next request start a batch earlier, down to
 * the finalized block.
 */
export class RangeSync {
  private running: Promise<void> | null = null
  private state: SyncState | null = null
  private again = false

  constructor(
    private readonly opts: { batch: number },
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
          if (this.best(new Set())) this.trigger()
        }
      })
  }

  /** Resolves when no sync run is under way. */
  async settled(): Promise<void> {
    while (this.running) await this.running
  }

  private best(excluded: Set<string>): SyncPeer | undefined {
    const head = this.modules.chain.head.header.number
    let best: SyncPeer | undefined
    for (const p of this.modules.peers()) {
      if (excluded.has(p.id) || p.headNumber <= head) continue
      if (!best || p.headNumber > best.headNumber) best = p
    }
    return best
  }

  private async run(): Promise<void> {
    const { chain, logger, metrics, penalize } = this.modules
    const excluded = new Set<string>()
    let from: bigint | undefined
    let prefetch: { peer: string; start: bigint; count: number; blocks: Promise<Uint8Array[]> } | undefined
    const started = performance.now()
    let imported = 0
    for (;;) {
      this.again = false
      const peer = this.best(excluded)
      if (!peer) break
      const head = chain.head.header.number
      this.state ??= { startingBlock: head, highestBlock: peer.headNumber }
      if (peer.headNumber > this.state.highestBlock) this.state.highestBlock = peer.headNumber
      metrics?.syncHighest.set(Number(this.state.highestBlock))
      const start = from ?? head + 1n
      from = undefined
      const count = Number(min(BigInt(this.opts.batch), peer.headNumber - start + 1n))
      if (count <= 0) break
      const fetch =
        prefetch && prefetch.peer === peer.id && prefetch.start === start && prefetch.count === count
          ? prefetch.blocks
          : this.modules.fetchRange(peer.id, start, count)
      prefetch = undefined
      let blocks: Uint8Array[]
      try {
        blocks = await fetch
      } catch (err) {
        logger.debug({ peer: peer.id, err }, 'range request failed')
        penalize(peer.id, PeerAction.MidToleranceError, 'sync_request_failed')
        excluded.add(peer.id)
        continue
      }
      if (blocks.length === 0) {
        penalize(peer.id, PeerAction.MidToleranceError, 'sync_empty_response')
        excluded.add(peer.id)
        continue
      }
      // Ask for the next batch while this one imports.
      const nextStart = start + BigInt(blocks.length)
      if (nextStart <= peer.headNumber) {
        const nextCount = Number(min(BigInt(this.opts.batch), peer.headNumber - nextStart + 1n))
        const p = this.modules.fetchRange(peer.id, nextStart, nextCount)
        p.catch(() => {})
        prefetch = { peer: peer.id, start: nextStart, count: nextCount, blocks: p }
      }
      let failed = false
      for (const [i, bytes] of blocks.entries()) {
        const r = await chain.processBlock(bytes, { source: 'sync', peer: peer.id })
        if (r.status === 'imported' || r.status === 'known') {
          if (r.status === 'imported') {
            imported++
            metrics?.syncBlocks.inc()
          }
          continue
        }
        if (r.status === 'unknownParent' && i === 0) {
          // Our head is on another branch than the peer's: step back toward the common ancestor.
          const finalized = (await chain.checkpoint('finalized')).header.number
          const back = start - BigInt(this.opts.batch)
          from = back > finalized ? back : finalized + 1n
          if (start <= finalized + 1n) {
            penalize(peer.id, PeerAction.LowToleranceError, 'sync_unrelated_chain')
            excluded.add(peer.id)
          }
        } else if (r.status === 'error' && r.error.penalize) {
          logger.warn({ peer: peer.id, err: r.error }, 'peer served an invalid block for sync')
          penalize(peer.id, blockPenalty(r.error), `sync_${r.error.code}`)
          excluded.add(peer.id)
        } else if (r.status !== 'unknownParent') {
          excluded.add(peer.id)
        }
        failed = true
        break
      }
      if (failed) prefetch = undefined
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
