import type { ChainReader } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import { classifyRefusal } from '@cairn/txpool'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { TxAnnouncement } from './codec.ts'
import { PeerAction } from './scoring.ts'
import { BLOB_TX_TYPE_GUARD, decodeTx } from './tx-codec.ts'

/** Most transactions asked for in one pooled_transactions_by_hash request (eth/68 asks ≤ 256). */
export const MAX_TX_REQUEST = 256
/** Largest transaction body accepted (geth's txMaxSize, 128 KiB). */
export const MAX_TX_BYTES = 128 * 1024
/** Hashes remembered as done (fetched, refused or mismatched), so an announcement of them is not fetched again. */
const RECENT = 32_768
/** A failed request is asked again this many more times. */
const FETCH_RETRIES = 3

export interface TxFetcherModules {
  chain: ChainReader
  pool: TxPool
  logger: Logger
  /** pooled_transactions_by_hash to a peer: the bodies it still has, in any order. */
  request: (peer: string, hashes: Uint8Array[]) => Promise<Uint8Array[]>
  penalize: (peer: string, action: PeerAction, reason: string) => void
  /**
   * Whether the peer is connected now (absent: always). A failed request is asked again only of a
   * peer still connected: a request dials a peer it is not connected to (libp2p dials on demand,
   * from the addresses the peer told), past the redialer's backoff and past a partition.
   */
  connected?: (peer: string) => boolean
}

/**
 * eth/68's transaction fetcher: an announcement names transactions by hash, type and size; the
 * ones this node neither has nor is fetching are asked of the announcer (in requests of at most
 * {@link MAX_TX_REQUEST}). A body must be one that was asked for and match its announced type
 * and size, else the announcer is penalised (low tolerance) and the body dropped; a match enters
 * the pool as a remote transaction (a refusal that is the sender's fault penalises too). A
 * transaction missing from the answer is not blamed (it may have left the peer's pool): a later
 * announcement fetches it. Bodies an announcement carries (see `encodeTxAnnouncement`) are taken
 * as that answer, without a request; the same checks apply.
 */
export class TxFetcher {
  private readonly inFlight = new Set<string>()
  private readonly recent = new Set<string>()
  private readonly pending = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly modules: TxFetcherModules) {}

  /**
   * An announcement from `peer` (the sender on the topic): fetch, in the background, what is
   * unknown. A request that fails (a timeout, a reset stream) is asked again of the same peer
   * after 1, 2 and 4 s (`attempt`) while it is connected: the announcer announces once, so nothing
   * else would; a peer gone re-announces its pool when it joins again.
   */
  announced(peer: string, txs: TxAnnouncement[], attempt = 0): void {
    const { logger } = this.modules
    const want = new Map<string, TxAnnouncement>()
    const carried = new Map<string, TxAnnouncement>()
    for (const t of txs) {
      if (t.type === 3 || t.size > MAX_TX_BYTES) continue // blobs travel with sidecars; oversize never fits the pool
      const key = bytesToHex(t.hash)
      if (want.has(key) || carried.has(key)) continue
      if (this.inFlight.has(key) || this.recent.has(key) || this.modules.pool.get(t.hash)) continue
      ;(t.body !== undefined ? carried : want).set(key, t)
    }
    logger.debug({ peer, announced: txs.length, want: want.size, carried: carried.size }, 'transactions announced')
    // Bodies the announcement carries are checked and admitted as a fetched answer would be.
    if (carried.size > 0) {
      this.track(
        carried,
        this.admit(
          peer,
          carried,
          [...carried.values()].map((t) => t.body as Uint8Array),
        ),
      )
    }
    if (want.size === 0) return
    const entries = [...want.entries()]
    for (let i = 0; i < entries.length; i += MAX_TX_REQUEST) {
      const part = new Map(entries.slice(i, i + MAX_TX_REQUEST))
      this.track(part, this.fetch(peer, part, attempt))
    }
  }

  /** Marks `part` in flight until `work` settles, and `work` pending for {@link settled}. */
  private track(part: Map<string, TxAnnouncement>, work: Promise<void>): void {
    for (const key of part.keys()) this.inFlight.add(key)
    const p: Promise<void> = work.finally(() => {
      for (const key of part.keys()) this.inFlight.delete(key)
      this.pending.delete(p)
    })
    this.pending.add(p)
  }

  /** No more fetches or retries (the network is stopping). */
  stop(): void {
    this.stopped = true
  }

  /** Resolves when no fetch is under way. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
  }

  /** A transaction the pool admitted (from anywhere): not to be fetched again once it leaves the pool for a block. */
  admitted(hash: Uint8Array): void {
    this.remember(bytesToHex(hash))
  }

  private remember(key: string): void {
    if (this.recent.size >= RECENT) {
      const oldest = this.recent.values().next().value
      if (oldest !== undefined) this.recent.delete(oldest)
    }
    this.recent.add(key)
  }

  private async fetch(peer: string, want: Map<string, TxAnnouncement>, attempt: number): Promise<void> {
    const { logger } = this.modules
    let bodies: Uint8Array[]
    try {
      bodies = await this.modules.request(
        peer,
        [...want.values()].map((t) => t.hash),
      )
    } catch (err) {
      logger.debug({ peer, err, attempt }, 'pooled transactions request failed')
      if (attempt < FETCH_RETRIES && !this.stopped) {
        const txs = [...want.values()]
        const retry = setTimeout(
          () => {
            if (!this.stopped && (this.modules.connected?.(peer) ?? true)) this.announced(peer, txs, attempt + 1)
          },
          1000 * 2 ** attempt,
        )
        retry.unref()
      }
      return
    }
    await this.admit(peer, want, bodies)
  }

  /**
   * The bodies `peer` sent for the transactions in `want` (its answer to a request, or carried by
   * its announcement): each must be one of them, once, and match its announced type and size,
   * else the peer is penalised; the ones before a bad body enter the pool.
   */
  private async admit(peer: string, want: Map<string, TxAnnouncement>, bodies: Uint8Array[]): Promise<void> {
    const { chain, pool, logger, penalize } = this.modules
    const served = new Set<string>()
    const admit: TypedTransaction[] = []
    for (const body of bodies) {
      let tx: ReturnType<typeof decodeTx>
      try {
        tx = decodeTx(body, chain)
      } catch {
        penalize(peer, PeerAction.LowToleranceError, 'bad_tx_body')
        break
      }
      if (tx === BLOB_TX_TYPE_GUARD) {
        penalize(peer, PeerAction.LowToleranceError, 'tx_unrequested')
        break
      }
      const key = bytesToHex(tx.hash())
      const announced = want.get(key)
      if (!announced || served.has(key)) {
        penalize(peer, PeerAction.LowToleranceError, 'tx_unrequested')
        break
      }
      served.add(key)
      if (announced.type !== tx.type || announced.size !== body.length) {
        logger.debug(
          {
            peer,
            hash: key,
            announced: { type: announced.type, size: announced.size },
            got: { type: tx.type, size: body.length },
          },
          'transaction body does not match its announcement',
        )
        // Not remembered: an honest announcer may still deliver it.
        penalize(peer, PeerAction.LowToleranceError, 'tx_announce_mismatch')
        continue
      }
      this.remember(key)
      admit.push(tx)
    }
    // The bodies before a bad one (which ends the answer, as before) go to the pool: their senders
    // in one request to the recovery workers, then admitted in order.
    await pool.prepareSenders(admit).catch(() => undefined) // a failed recovery: `add` recovers itself
    for (const tx of admit) {
      try {
        await pool.add(tx, { source: 'remote', peer })
      } catch (err) {
        if (classifyRefusal(err) === 'bad') penalize(peer, PeerAction.LowToleranceError, 'bad_tx')
      }
    }
  }
}
