/**
 * p2p's range sync as it imports (`packages/p2p/src/sync.ts`; this package's tests cannot import
 * p2p), for the in-process network: while a peer's head is above this node's, a batch of that
 * peer's canonical blocks arrives `delayMs` later on the network's clock, is prepared by
 * `chain.prepareBlocks` in chunks, and is imported in order through `processBlock({ source: 'sync',
 * next })`, each block's successor in its chunk executed ahead while it commits. A refusal that
 * blames the peer is recorded as a penalty and ends the batch (RangeSync penalises and leaves the
 * peer out); a transient one ends it too; the next batch is asked `retryMs` later.
 */
import type { Block } from '@ethereumjs/block'
import type { BftNode } from './bft-network.ts'
import type { ManualClock } from './clock.ts'

export interface SimRangeSyncOptions {
  /** Blocks asked per batch (RangeSync's `batch`). */
  batch: number
  /** Blocks per prepared chunk: a block's `next` is its successor within the chunk. */
  chunk: number
  /** A batch's round trip (ms). */
  delayMs: number
  /** The wait after a batch that imported nothing, or when no peer is ahead (ms). */
  retryMs: number
}

export interface SimRangeSyncModules {
  /** The node that syncs (one incarnation: a restart makes a new sync). */
  node: BftNode
  /** The peers it may ask, with their chains. */
  peers: () => BftNode[]
  clock: ManualClock
  /** Work the network's `settle` waits for (each batch's import). */
  track: (work: Promise<unknown>) => void
}

/** A refusal of a block from sync: blamed on the peer (`penalize`), or not (this node's, transient). */
export interface SyncRefusal {
  peer: number
  height: bigint
  code: string
  message: string
  penalize: boolean
}

export class SimRangeSync {
  readonly refusals: SyncRefusal[] = []
  imported = 0
  #stopped = false
  readonly #opts: SimRangeSyncOptions
  readonly #m: SimRangeSyncModules

  constructor(opts: SimRangeSyncOptions, modules: SimRangeSyncModules) {
    this.#opts = opts
    this.#m = modules
  }

  /** Refusals that blamed a peer: what would have penalised (and in the end disconnected) it. */
  get penalties(): SyncRefusal[] {
    return this.refusals.filter((r) => r.penalize)
  }

  start(): void {
    this.#schedule(0)
  }

  /** No more batches; one under way stops at its next block. */
  stop(): void {
    this.#stopped = true
  }

  #schedule(ms: number): void {
    if (this.#stopped) return
    this.#m.clock.setTimeout(() => {
      if (this.#stopped) return
      this.#m.track(this.#batch())
    }, ms)
  }

  /** The peer with the highest head above ours (the lowest index among equals), if any. */
  #peer(): BftNode | undefined {
    const head = this.#m.node.chain.head.header.number
    let best: BftNode | undefined
    for (const p of this.#m.peers()) {
      const h = p.chain.head.header.number
      if (h > head && (best === undefined || h > best.chain.head.header.number)) best = p
    }
    return best
  }

  /** Asks the best peer for a batch; its answer is imported a round trip later. */
  async #batch(): Promise<void> {
    const { chain } = this.#m.node
    const peer = this.#peer()
    if (peer === undefined) return this.#schedule(this.#opts.retryMs)
    const start = chain.head.header.number + 1n
    const end = peer.chain.head.header.number
    const bytes: Uint8Array[] = []
    for (let h = start; h <= end && bytes.length < this.#opts.batch; h++) {
      const block = await peer.chain.getBlockByNumber(h)
      if (block === undefined) break
      bytes.push(block.serialize())
    }
    this.#m.clock.setTimeout(() => {
      if (!this.#stopped) this.#m.track(this.#import(peer, start, bytes))
    }, this.#opts.delayMs)
  }

  async #import(peer: BftNode, start: bigint, bytes: Uint8Array[]): Promise<void> {
    const { chain } = this.#m.node
    let imported = 0
    let height = start
    outer: for (let c = 0; c < bytes.length; c += this.#opts.chunk) {
      const chunk = await chain.prepareBlocks(bytes.slice(c, c + this.#opts.chunk))
      for (let i = 0; i < chunk.length; i++) {
        if (this.#stopped) return
        const next = chunk[i + 1]
        const r = await chain.processBlock(chunk[i] as Block | Uint8Array, {
          source: 'sync',
          peer: String(peer.index),
          ...(next !== undefined && !(next instanceof Uint8Array) ? { next } : {}),
        })
        if (r.status === 'imported' || r.status === 'known') {
          if (r.status === 'imported') imported++
          height++
          continue
        }
        const { code, message, penalize } =
          r.status === 'error'
            ? { code: r.error.code, message: r.error.message, penalize: r.error.penalize }
            : { code: r.status, message: r.status, penalize: false }
        this.refusals.push({ peer: peer.index, height, code, message, penalize })
        break outer
      }
    }
    this.imported += imported
    this.#schedule(imported > 0 ? 0 : this.#opts.retryMs)
  }
}
