// eth/68's announcements, as the P2P node sends them: what the pool admits (RPC or fetched) is
// announced by hash, type and size, in batches; a small local transaction travels with its
// announcement; announcements that reached no peer are tried again; the pool's pending
// transactions are announced again when a peer joins the transaction topic and on each heartbeat.
import { randomBytes } from 'node:crypto'
import { encodedTx } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import {
  ANNOUNCEMENT_NONCE_BYTES,
  encodeTxAnnouncement,
  MAX_ANNOUNCED_TXS,
  MAX_CARRIED_TX_BYTES,
  MAX_CARRIED_TXS,
  type TxAnnouncement,
} from './codec.ts'

/** How often announcements that reached no peer are tried again, and how many are kept for it. */
const ANNOUNCE_RETRY_MS = 500
const MAX_UNSENT_ANNOUNCEMENTS = 4096

export interface TxAnnouncerOptions {
  /** Milliseconds transactions admitted by the pool wait to be announced together. */
  delayMs: number
}

export interface TxAnnouncerModules {
  pool: Pick<TxPool, 'get' | 'isLocal' | 'content'>
  /** Publishes an encoded announcement on the transaction topic; resolves to the peers it reached. */
  publish(bytes: Uint8Array): Promise<number>
  /** Whether the network runs (nothing is retried or scheduled once it stopped). */
  running(): boolean
  logger: Logger
}

/** A fresh nonce for a transaction announcement (each announcement a gossip message of its own). */
export function announcementNonce(): Uint8Array {
  return randomBytes(ANNOUNCEMENT_NONCE_BYTES)
}

/** The announcements of the pool's transactions (see the file's header). */
export class TxAnnouncer {
  #queue: TxAnnouncement[] = []
  #timer: NodeJS.Timeout | undefined
  #reannounceTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: TxAnnouncerOptions,
    private readonly modules: TxAnnouncerModules,
  ) {}

  /** The pool admitted `tx` (not a blob transaction: those are not announced). */
  admitted(tx: TypedTransaction): void {
    // A small transaction this node's own RPC admitted travels with its announcement: every
    // peer wants it (none has it yet), so a request for it would only add a round trip.
    const body = encodedTx(tx)
    const carry = body.length <= MAX_CARRIED_TX_BYTES && this.modules.pool.isLocal(tx.hash())
    this.#queue.push({ type: tx.type, size: body.length, hash: tx.hash(), ...(carry ? { body } : {}) })
    this.#timer ??= setTimeout(() => void this.flush(), this.opts.delayMs)
  }

  stop(): void {
    clearTimeout(this.#timer)
    clearTimeout(this.#reannounceTimer)
  }

  /**
   * Publishes the queued announcements. One that no peer would receive yet (a node that has just
   * started or restarted, before its peers' subscriptions are known) is kept and tried again every
   * `ANNOUNCE_RETRY_MS` while its transactions are still pooled: otherwise a transaction sent to a
   * follower that had no subscribed peer would never reach the producer.
   */
  private async flush(): Promise<void> {
    this.#timer = undefined
    const { pool } = this.modules
    const queue = this.#queue.filter((t) => pool.get(t.hash) !== undefined)
    this.#queue = []
    const unsent: TxAnnouncement[] = []
    const carried = queue.filter((t) => t.body !== undefined)
    const bare = queue.filter((t) => t.body === undefined)
    const chunks: TxAnnouncement[][] = []
    for (let i = 0; i < carried.length; i += MAX_CARRIED_TXS) chunks.push(carried.slice(i, i + MAX_CARRIED_TXS))
    for (let i = 0; i < bare.length; i += MAX_ANNOUNCED_TXS) chunks.push(bare.slice(i, i + MAX_ANNOUNCED_TXS))
    for (const chunk of chunks) {
      const sent = await this.modules.publish(encodeTxAnnouncement(chunk, announcementNonce()))
      if (sent === 0) unsent.push(...chunk)
    }
    if (unsent.length > 0 && this.modules.running()) {
      this.#queue.unshift(...unsent.slice(-MAX_UNSENT_ANNOUNCEMENTS))
      this.#timer ??= setTimeout(() => void this.flush(), ANNOUNCE_RETRY_MS)
    }
  }

  /**
   * A peer joined the transaction topic (a new node, or one restarted), or a heartbeat passed: the
   * pool's pending transactions are announced again, once for every call within `delayMs`. A
   * transaction is announced when the pool admits it, so a peer away at that moment (a producer
   * restarting) never heard of it, and would queue every later nonce of its sender behind the gap
   * (found by the chaos testbed, `--topology producer`). Each sender's lowest nonces first, at most
   * MAX_UNSENT_ANNOUNCEMENTS; peers fetch only the bodies they lack. `perSender` caps the
   * transactions of one sender.
   */
  reannouncePool(perSender: number, delayMs: number): void {
    if (this.#reannounceTimer !== undefined || !this.modules.running()) return
    this.#reannounceTimer = setTimeout(() => {
      this.#reannounceTimer = undefined
      this.modules.pool.content().then(
        (content) => {
          if (!this.modules.running()) return
          const senders = [...content.pending.values()]
          const picked: TypedTransaction[] = []
          for (let i = 0; i < perSender && picked.length < MAX_UNSENT_ANNOUNCEMENTS; i++) {
            let more = false
            for (const list of senders) {
              const tx = list[i]
              if (tx === undefined) continue
              more = true
              if (tx.type !== 3 && picked.length < MAX_UNSENT_ANNOUNCEMENTS) picked.push(tx)
            }
            if (!more) break
          }
          if (picked.length === 0) return
          for (const tx of picked) this.#queue.push({ type: tx.type, size: encodedTx(tx).length, hash: tx.hash() })
          this.#timer ??= setTimeout(() => void this.flush(), 0)
          this.modules.logger.debug({ txs: picked.length, perSender }, 'p2p: pool announced again')
        },
        (err: unknown) => this.modules.logger.warn({ err }, 'p2p: the pool could not be announced again'),
      )
    }, delayMs)
    this.#reannounceTimer.unref()
  }
}
