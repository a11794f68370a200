// Over 600 lines, on purpose: admission, per-sender nonce order, replacement, eviction and the
// new-head clean-up read and write the same indexes under one set of invariants (the pool's
// README); split apart they would share mutable state across files. The journal, blob sidecars,
// the price and eviction heaps and per-sender lists already live in files of their own.
import { type SenderRecovery, txHashHex, txSenderHex } from '@cairn/chain'
import { type BlobKzg, blobKzg } from '@cairn/crypto'
import { bytesToHex, CairnError, errorMessage, type Logger, TypedEmitter } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { Admission } from './admission.ts'
import { ArrivalOrder } from './arrival-order.ts'
import { type BlobSidecar, sidecarBytes, sidecarVersionFor, verifySidecar } from './blob-sidecar.ts'
import { TX_POOL_HINTS, TX_POOL_MESSAGES, TxPoolErrorCode } from './errors.ts'
import { EvictHeap } from './evict-heap.ts'
import type { TxPoolMetrics } from './metrics.ts'
import { blobFieldsOf, comparePrice, feesOf, type PoolTx, slotsOf } from './pool-tx.ts'
import { type BlobBlockLimits, coversBaseFee, PriceAndNonceSource } from './price-heap.ts'
import { byNonce, newSender, pendingRun, type SenderTxs } from './sender.ts'
import { encodeOnce, senderOf } from './sender-address.ts'

export interface TxPoolOptions {
  /** Minimum tip (wei) a transaction must offer; 0 in dev. */
  minTip: bigint
  /** Percent by which a replacement must raise both fee fields. */
  priceBump: number
  /** Executable transactions an account is guaranteed when the pool is full (geth's AccountSlots). */
  accountSlots: number
  /** Most nonce-gapped transactions per account (geth's AccountQueue). */
  accountQueue: number
  /** Most executable transaction slots (32 KB each) in the pool. */
  globalSlots: number
  /** Most nonce-gapped transaction slots in the pool. */
  globalQueue: number
  /** Largest encoded transaction accepted (bytes). */
  maxTxSize: number
  /** Seconds an account's queued transactions are kept without activity (geth's Lifetime: 3 h). */
  lifetime: number
  /** Percent by which a blob transaction's replacement must raise all three fee fields (geth's blobpool: 100). */
  blobPriceBump: number
  /** Most blob transactions per account (geth's blobpool maxTxsPerAccount: 16). */
  blobAccountLimit: number
  /** Most bytes of blobs the pool holds (128 KiB per blob); a blob transaction past it is refused "txpool is full". */
  blobCap: number
  /**
   * Executable slots past which local senders (`submit`) wait for blocks while a producer drains
   * the pool (see `Admission`); undefined: never. The node sets three quarters of `globalSlots`.
   */
  holdSendersAt?: number
  /** Longest a held sender waits before its transaction meets the pool's limits (ms; 10,000). */
  holdMaxWaitMs?: number
}

export const DEFAULT_TXPOOL_OPTIONS: TxPoolOptions = {
  minTip: 1n,
  priceBump: 10,
  accountSlots: 16,
  accountQueue: 64,
  globalSlots: 5120,
  globalQueue: 1024,
  maxTxSize: 128 * 1024,
  lifetime: 3 * 3600,
  blobPriceBump: 100,
  blobAccountLimit: 16,
  blobCap: 256 * 1024 * 1024,
}

/** Reads accounts at the head (nonce and balance are all the pool needs). */
export interface AccountReader {
  getAccount(address: Address): Promise<{ nonce: bigint; balance: bigint } | undefined>
}

export interface TxPoolModules {
  /** State at a head's state root. */
  stateAt(stateRoot: Uint8Array): AccountReader
  /**
   * The state root after a head block: its header's by default; on a dev chain, the one state
   * edits made of it without a block (anvil_setBalance and kin: `Executor.postStateRoot`).
   */
  stateRootOf?(head: BlockHeader): Uint8Array
  head: BlockHeader
  logger: Logger
  metrics: TxPoolMetrics | null
  /** Clock in ms (queued expiry); Date.now by default. */
  now?: () => number
  /** Recovers senders before admission (a worker pool); absent: recovered on this thread. */
  recovery?: SenderRecovery
  /** Local transactions are appended here, durably, before `add` resolves; absent: not kept. */
  journal?: LocalTxLog
  /** KZG for blob sidecars; the process's shared {@link blobKzg} by default (loaded on first blob transaction). */
  kzg?: BlobKzg
}

export interface TxPoolEvents extends Record<string, unknown> {
  /** A transaction entered the pool (for newPendingTransactions). */
  added: TypedTransaction
}

/**
 * Where a transaction came from, which the pool must be told (geth keeps local transactions):
 * `local` — this node's RPC or its journal: journaled, so a restart keeps it, and never evicted to
 * make room for a remote one; `remote` — a peer's gossip (with the peer's id, for the logs):
 * not journaled, and the first to be evicted when the pool is full.
 */
export type TxSource = 'local' | 'remote'

/** How a transaction reached the pool. */
export interface AddOptions {
  source: TxSource
  /** The peer that sent a `remote` transaction. */
  peer?: string
  /** Already in the journal (read back from it at start): not appended again. */
  journaled?: boolean
  /** A blob (type-3) transaction's blobs, commitments and proofs (its network form); required for type 3. */
  sidecar?: BlobSidecar
}

/**
 * Where local transactions are made durable before they are acknowledged (the {@link TxJournal}).
 * The pool writes a transaction ahead of its checks ({@link append}) and says when they ended
 * ({@link settle}).
 */
export interface LocalTxLog {
  /** Writes `tx`; resolves once it is on disk. Until it is settled, compactions keep it. */
  append(tx: TypedTransaction): Promise<void>
  /** `tx`'s admission ended: admitted (the pool holds it from now on) or refused (its line is dead). */
  settle(tx: TypedTransaction, admitted: boolean): void
}

/** Per-sender transactions for txpool_content / txpool_contentFrom. */
export interface PoolContent {
  pending: Map<string, TypedTransaction[]>
  queued: Map<string, TypedTransaction[]>
}

/** geth's txpool_inspect: sender → nonce → "to: value wei + gas gas × price wei". */
export interface PoolInspect {
  pending: Record<string, Record<string, string>>
  queued: Record<string, Record<string, string>>
}

type Account = { nonce: bigint; balance: bigint }
type EvictReason = 'full' | 'expired' | 'unpayable' | 'account_queue' | 'unjournaled'

const SUPPORTED_TYPES = new Set([0, 1, 2, 4])
const BLOB_TX_TYPE = 3
const NONCE_MAX = 2n ** 64n - 1n
const EXPIRY_CHECK_MS = 60_000

/**
 * The transaction pool (geth's legacypool rules): admission checks with geth's messages, per-sender
 * nonce ordering (executable runs are pending, gapped ones queued, promoted when the gap fills),
 * replacement by price bump, per-account and global limits counted in 32 KB slots with eviction of
 * the cheapest, queued expiry, block candidates by price and nonce, and clean-up on every new head
 * (re-injection after a reorg). Work per admission and per head is proportional to the senders
 * involved, never to the whole pool.
 */
export class TxPool {
  readonly events = new TypedEmitter<TxPoolEvents>()
  private readonly senders = new Map<string, SenderTxs>()
  private readonly byHash = new Map<string, PoolTx>()
  /** Adds take turns in call order to check and insert (see {@link add}). */
  private readonly arrivals = new ArrivalOrder()
  /** Blob transactions' sidecars by transaction hash: kept beside the pool, dropped with the transaction. */
  private readonly sidecars = new Map<string, BlobSidecar>()
  private blobBytes = 0
  private head: BlockHeader
  /** The head's state view, made when first read: a head no sender needs (a follower's pool during a sync) costs none. */
  private headStateView: AccountReader | null = null
  /** Base fee of the next block: the price at which eviction compares transactions. */
  private baseFee: bigint
  /** Account reads at the current head (the state of one root never changes). */
  private accountCache = new Map<string, Promise<Account>>()
  private pendingCount = 0
  private queuedCount = 0
  private pendingSlots = 0
  private queuedSlots = 0
  private readonly pendingHeap: EvictHeap
  private readonly queuedHeap: EvictHeap
  /** Senders whose promotion stopped for lack of pending room. */
  private readonly blocked = new Set<string>()
  /** Admission's incremental reclassification (see `validateAndInsert`); a differential test turns it off. */
  private incremental = true
  private lastExpiry = 0
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    readonly opts: TxPoolOptions,
    private readonly modules: TxPoolModules,
  ) {
    this.admission = new Admission(
      { holdAt: opts.holdSendersAt, maxWaitMs: opts.holdMaxWaitMs ?? 10_000 },
      { pending: () => this.slots.pending, logger: modules.logger },
    )
    this.head = modules.head
    this.baseFee = nextBaseFee(this.head)
    this.pendingHeap = new EvictHeap(this.baseFee)
    this.queuedHeap = new EvictHeap(this.baseFee)
    this.lastExpiry = this.now()
    if (modules.metrics) {
      modules.metrics.sizes.source = () => ({
        pending: this.pendingCount,
        queued: this.queuedCount,
        blobTxs: this.sidecars.size,
        blobBytes: this.blobBytes,
      })
    }
  }

  /** Starts the periodic queued-expiry sweep (once a minute, not keeping the process alive). */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.expireQueued(), EXPIRY_CHECK_MS)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.admission.setDrainer(null)
  }

  /**
   * Backpressure for local senders (`submit`): a producer that drains the pool installs itself
   * (`admission.setDrainer`); each new head wakes the senders it holds.
   */
  readonly admission: Admission

  /**
   * A local submission (eth_sendRawTransaction, eth_sendTransaction): {@link add} once the pool has
   * room for it, waiting for blocks while a producer drains a pool past `holdSendersAt` (see
   * `Admission`). Peers' transactions go to {@link add} directly: they never wait.
   */
  submit(tx: TypedTransaction, options: AddOptions): Promise<Uint8Array> {
    return this.admission.run(() => this.add(tx, options))
  }

  /** Admits a signed transaction, or throws a CairnError whose message is geth's. */
  async add(tx: TypedTransaction, options: AddOptions): Promise<Uint8Array> {
    try {
      // A transaction already pooled is refused before its sender is recovered, the costliest
      // check: gossip delivers one transaction from several peers (the BFT bench's profile spent
      // 2.6 s recovering senders, duplicates among them).
      if (this.byHash.has(txHashHex(tx))) throw reject(TxPoolErrorCode.ALREADY_KNOWN)
      const local = options.source === 'local'
      // A local transaction is written to the journal as it arrives, while its sender is recovered
      // and it is checked; `add` resolves once both are done (the write used to follow the checks,
      // a fifth of a sent batch's wait under load). One refused leaves a dead line, which a reload
      // refuses again and the journal's next compaction drops. Blob transactions are not
      // journaled: the journal keeps canonical encodings, without blobs.
      const journal = local && !options.journaled && tx.type !== BLOB_TX_TYPE ? this.modules.journal : undefined
      const written = journal?.append(tx)
      written?.catch(() => {}) // awaited below, unless the checks refuse it first
      let hash: Uint8Array
      // The sender is recovered on a worker (those already recovered in a batch, `prepareSenders`,
      // are not asked again), and the transaction is checked and inserted in its turn: in the order
      // `add` was called, whatever order the recoveries finish in (./arrival-order.ts). Its turn
      // ends once its checks have asked for the sender's account, which later adds of that sender
      // then read after it (one promise per account): they are inserted after it too.
      const turn = this.arrivals.next(this.recoverSender(tx))
      try {
        let inserting: Promise<Uint8Array>
        try {
          await turn.wait
          inserting = this.validateAndInsert(tx, local, options.journaled === true, options.sidecar)
        } finally {
          turn.pass()
        }
        hash = await inserting
      } catch (err) {
        journal?.settle(tx, false)
        throw err
      }
      journal?.settle(tx, true)
      if (written) await this.persisted(written, hash)
      this.modules.metrics?.admitted.inc()
      this.events.emit('added', tx)
      return hash
    } catch (err) {
      if (err instanceof CairnError) {
        this.modules.metrics?.rejected.inc({ reason: err.code })
        if (options.peer)
          this.modules.logger.debug({ peer: options.peer, code: err.code }, 'remote transaction refused')
      }
      throw err
    }
  }

  /** Has the sender of `tx` recovered on a worker, if there are workers and it is not yet; a throw becomes a rejection. */
  private recoverSender(tx: TypedTransaction): Promise<void> | undefined {
    const { recovery } = this.modules
    if (!recovery || tx.cache.senderPubKey !== undefined) return undefined
    try {
      return recovery.prepare([tx])
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Waits for an admitted local transaction's journal write before it is acknowledged. When the
   * journal cannot be written (a full disk) the transaction leaves the pool again, with its later
   * nonces, and the caller is told: nothing is acknowledged that a crash would lose.
   */
  private async persisted(written: Promise<void>, hash: Uint8Array): Promise<void> {
    try {
      await written
    } catch (err) {
      const p = this.byHash.get(bytesToHex(hash))
      if (p) this.removeWithDescendants(p, 'unjournaled')
      throw new CairnError(
        TxPoolErrorCode.JOURNAL_UNWRITABLE,
        `transaction not accepted: the txpool journal cannot be written (${errorMessage(err)})`,
        { fault: 'transient', cause: err, hint: 'free disk space on the datadir; retry the transaction afterwards' },
      )
    }
  }

  /**
   * `reloaded`: read back from the journal at start. Such a transaction was acknowledged before
   * the restart: when it is executable but the pending pool has no room (and nothing cheaper to
   * evict) it waits as queued, promoted when blocks free room, instead of being refused "txpool
   * is full" — which stranded every later nonce of its sender behind the gap.
   */
  private async validateAndInsert(
    tx: TypedTransaction,
    local: boolean,
    reloaded = false,
    sidecar?: BlobSidecar,
  ): Promise<Uint8Array> {
    const size = encodeOnce(tx).length
    const hashBytes = tx.hash()
    const hash = txHashHex(tx)
    if (this.byHash.has(hash)) throw reject(TxPoolErrorCode.ALREADY_KNOWN)
    const isBlob = tx.type === BLOB_TX_TYPE && this.head.common.isActivatedEIP(4844)
    if (!SUPPORTED_TYPES.has(tx.type) && !isBlob) throw reject(TxPoolErrorCode.TYPE_NOT_SUPPORTED)
    if (size > this.opts.maxTxSize) throw reject(TxPoolErrorCode.OVERSIZED)
    if (tx.gasLimit > this.head.gasLimit) throw reject(TxPoolErrorCode.GAS_LIMIT)
    if (tx.gasLimit < tx.getMinimumGasLimit()) throw reject(TxPoolErrorCode.INTRINSIC_GAS)
    const { cap, tip } = feesOf(tx)
    if (tip > cap) throw reject(TxPoolErrorCode.TIP_ABOVE_FEE_CAP)
    if (tip < this.opts.minTip) throw reject(TxPoolErrorCode.UNDERPRICED)
    if (tx.nonce >= NONCE_MAX) throw reject(TxPoolErrorCode.NONCE_MAX)
    const blob = isBlob ? this.checkBlobTx(tx, sidecar) : undefined
    let from: Address
    try {
      from = senderOf(tx)
    } catch {
      throw reject(TxPoolErrorCode.INVALID_SENDER)
    }
    const key = txSenderHex(tx)
    // The expensive check last among the stateless ones: the KZG proofs (off the event loop).
    if (blob) {
      const end = this.modules.metrics?.blobVerifySeconds?.startTimer()
      try {
        await verifySidecar(tx, blob.sidecar, this.kzg())
      } finally {
        end?.()
      }
    }
    // Read the account at the head; read again if a new head arrived meanwhile.
    let account: Account
    for (;;) {
      const head = this.head
      account = await this.accountAt(from, key)
      if (head === this.head) break
    }
    // Another add of the same transaction may have finished while this one read the state.
    if (this.byHash.has(hash)) throw reject(TxPoolErrorCode.ALREADY_KNOWN)
    if (tx.nonce < account.nonce) throw reject(TxPoolErrorCode.NONCE_TOO_LOW)

    let sender = this.senders.get(key)
    if (sender && (sender.stateNonce !== account.nonce || sender.balance !== account.balance)) {
      this.resetSender(sender, account)
      sender = this.senders.get(key)
    }
    const existing = sender?.txs.get(tx.nonce)
    if (existing) {
      // geth's threshold: old * (100 + bump) / 100, rounded down. A blob transaction, or one that
      // replaces one, needs the blob pool's bump on every fee field (geth: 100%).
      const blobBump = blob !== undefined || existing.blobs !== undefined
      const pct = blobBump ? this.opts.blobPriceBump : this.opts.priceBump
      const bump = BigInt(100 + pct)
      const blobFeeLow =
        blob !== undefined && existing.blobFeeCap !== undefined && blob.feeCap < (existing.blobFeeCap * bump) / 100n
      if (cap < (existing.cap * bump) / 100n || tip < (existing.tip * bump) / 100n || blobFeeLow) {
        throw blobBump
          ? reject(
              TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
              undefined,
              `a blob transaction's replacement must raise maxFeePerGas, maxPriorityFeePerGas and maxFeePerBlobGas by at least ${pct}%`,
            )
          : reject(TxPoolErrorCode.REPLACEMENT_UNDERPRICED)
      }
    }
    if (blob) {
      let count = 0
      for (const t of sender?.txs.values() ?? []) if (t.blobs !== undefined && t !== existing) count++
      if (count >= this.opts.blobAccountLimit) {
        throw reject(
          TxPoolErrorCode.ACCOUNT_LIMIT,
          `have ${count} blob transactions, permitted ${this.opts.blobAccountLimit}`,
        )
      }
      const freed = existing
        ? this.sidecars.get(existing.hash)
          ? sidecarBytes(this.sidecars.get(existing.hash) as BlobSidecar)
          : 0
        : 0
      if (this.blobBytes - freed + sidecarBytes(blob.sidecar) > this.opts.blobCap) {
        throw reject(TxPoolErrorCode.FULL, 'the pool holds its most blob data (blobCap)')
      }
    }
    const cost = tx.gasLimit * cap + tx.value + (blob ? blob.gas * blob.feeCap : 0n)
    const committed = (sender?.cost ?? 0n) - (existing?.cost ?? 0n) + cost
    if (account.balance < committed) throw reject(TxPoolErrorCode.INSUFFICIENT_FUNDS)

    const slots = slotsOf(size)
    const pendingLen = sender?.pending ?? 0
    const executable = existing ? existing.pending : tx.nonce === account.nonce + BigInt(pendingLen)
    const need = slots - (existing?.slots ?? 0)
    const candidate = { cap, tip }
    let victims: PoolTx[] = []
    if (executable) {
      if (need > 0 && this.pendingSlots + need > this.opts.globalSlots && !reloaded) {
        // An account past its guaranteed share does not push others out.
        if (!existing && pendingLen >= this.opts.accountSlots) throw reject(TxPoolErrorCode.FULL)
        victims = this.pickVictims(
          true,
          need - (this.opts.globalSlots - this.pendingSlots),
          { ...candidate, local },
          key,
          tx.nonce,
        )
      }
    } else {
      if (!existing && (sender?.queued ?? 0) >= this.opts.accountQueue) throw reject(TxPoolErrorCode.ACCOUNT_LIMIT)
      // A gapped transaction only ever competes with other gapped ones: it never evicts a pending one.
      if (need > 0 && this.queuedSlots + need > this.opts.globalQueue) {
        victims = this.pickVictims(
          false,
          need - (this.opts.globalQueue - this.queuedSlots),
          { ...candidate, local },
          key,
          tx.nonce,
        )
      }
    }

    // Committed from here on: everything below is synchronous.
    for (const v of victims) this.removeWithDescendants(v, 'full')
    sender = this.senders.get(key)
    if (!sender) {
      sender = newSender(from, account.nonce, account.balance, this.now())
      this.senders.set(key, sender)
    }
    const ptx: PoolTx = {
      tx,
      hash,
      sender: key,
      nonce: tx.nonce,
      cap,
      tip,
      cost,
      slots,
      local,
      pending: false,
      version: 0,
      live: true,
      ...(blob ? { blobs: blob.sidecar.blobs.length, blobFeeCap: blob.feeCap } : {}),
    }
    const old = sender.txs.get(tx.nonce)
    if (old) {
      this.unlink(old)
      this.modules.metrics?.replaced.inc()
    }
    this.link(sender, ptx)
    if (blob) {
      this.sidecars.set(hash, blob.sidecar)
      this.blobBytes += sidecarBytes(blob.sidecar)
    }
    sender.lastActive = this.now()
    // Incremental where the sender's pending transactions are exactly its run from the account
    // nonce (it is not blocked for room): a transaction past the run's end leaves it as it was, one
    // at its end extends it; anything else walks the sender (reclassify). Fetched transactions
    // arrive out of nonce order: walking every time made a sender's admissions O(n²).
    const runEnd = sender.stateNonce + BigInt(sender.pending)
    if (old || !this.incremental || this.blocked.has(sender.key) || tx.nonce < runEnd) this.reclassify(sender)
    else if (tx.nonce === runEnd) this.extendRun(sender, ptx)
    return hashBytes
  }

  /**
   * The stateless checks of a blob transaction (geth's blobpool): it carries its sidecar, of the
   * version the head's fork takes, and no more blobs than a transaction and a block may carry.
   */
  private checkBlobTx(
    tx: TypedTransaction,
    sidecar: BlobSidecar | undefined,
  ): { sidecar: BlobSidecar; feeCap: bigint; gas: bigint } {
    const common = this.head.common
    const { count, feeCap } = blobFieldsOf(tx) as { count: number; feeCap: bigint }
    const perTx = common.isActivatedEIP(7594) ? Number(common.param('maxBlobsPerTx')) : Number.POSITIVE_INFINITY
    const perBlock = maxBlobsPerBlock(common)
    const limit = Math.min(perTx, perBlock)
    if (count > limit) throw reject(TxPoolErrorCode.BLOB_LIMIT, `have ${count}, permitted ${limit}`)
    if (!sidecar) throw reject(TxPoolErrorCode.BLOB_SIDECAR_MISSING)
    const want = sidecarVersionFor(common)
    if (sidecar.version !== want) {
      throw reject(
        TxPoolErrorCode.BLOB_SIDECAR_VERSION,
        `have version ${sidecar.version}, the chain's fork (${common.hardfork()}) takes version ${want}`,
      )
    }
    return { sidecar, feeCap, gas: BigInt(count) * common.param('blobGasPerBlob') }
  }

  /**
   * Victims to free `missing` slots of the pending (or queued) pool for a transaction priced
   * `candidate`: the cheapest first, each strictly cheaper than the candidate, never the candidate
   * sender's own earlier nonces, and never a local transaction for a remote one (eviction class:
   * a peer's gossip cannot push out what this node's users sent). Throws "txpool is full" (and
   * leaves the heap as it was) otherwise.
   */
  private pickVictims(
    pending: boolean,
    missing: number,
    candidate: { cap: bigint; tip: bigint; local: boolean },
    senderKey: string,
    nonce: bigint,
  ): PoolTx[] {
    const heap = pending ? this.pendingHeap : this.queuedHeap
    if (heap.baseFee !== this.baseFee) {
      heap.rebuild(this.liveTxs(pending), this.baseFee)
    }
    const victims: PoolTx[] = []
    const popped: PoolTx[] = []
    const spared: PoolTx[] = []
    const seen = new Set<PoolTx>()
    let freed = 0
    const fail = (): never => {
      for (const v of popped) heap.push(v)
      throw reject(TxPoolErrorCode.FULL)
    }
    while (freed < missing) {
      const v = heap.pop()
      if (!v) return fail()
      popped.push(v)
      if (seen.has(v)) continue
      if (v.local && !candidate.local) {
        spared.push(v)
        continue
      }
      victims.push(v)
      if (comparePrice(candidate, v, this.baseFee) <= 0) return fail()
      if (v.sender === senderKey && v.nonce <= nonce) return fail()
      // The victim leaves with its descendants: count the slots they free in this pool.
      const s = this.senders.get(v.sender) as SenderTxs
      for (const t of s.txs.values()) {
        if (t.nonce >= v.nonce && t.pending === pending && !seen.has(t)) {
          seen.add(t)
          freed += t.slots
        }
      }
    }
    for (const v of spared) heap.push(v)
    return victims
  }

  private *liveTxs(pending: boolean): Iterable<PoolTx> {
    for (const p of this.byHash.values()) if (p.pending === pending) yield p
  }

  /** The blobs, commitments and proofs of the pooled blob transaction with this hash. */
  blobSidecar(hash: Uint8Array): BlobSidecar | undefined {
    return this.sidecars.get(bytesToHex(hash))
  }

  /** Blob transactions pooled and the bytes of blob data they hold. */
  get blobStats(): { txs: number; bytes: number } {
    return { txs: this.sidecars.size, bytes: this.blobBytes }
  }

  /** The transaction with this hash, if pooled. */
  get(hash: Uint8Array): TypedTransaction | undefined {
    return this.byHash.get(bytesToHex(hash))?.tx
  }

  /** Whether the pooled transaction `hash` came from this node (its RPC or journal): false if not pooled. */
  isLocal(hash: Uint8Array): boolean {
    return this.byHash.get(bytesToHex(hash))?.local === true
  }

  /**
   * Recovers the senders of `txs` that are not pooled yet in one request to the recovery workers
   * (none: nothing), ahead of adding them one at a time: `add` recovers one transaction per
   * request, a message to a worker and back each, which costs the main thread about what the
   * recovery itself costs the worker (the transaction fetcher adds up to 256 bodies in a row).
   */
  async prepareSenders(txs: readonly TypedTransaction[]): Promise<void> {
    const recovery = this.modules.recovery
    if (!recovery) return
    const fresh = txs.filter((tx) => !this.byHash.has(txHashHex(tx)))
    if (fresh.length > 0) await recovery.prepare(fresh)
  }

  /**
   * Gives each of `txs` that is pooled (the same hash: the same signed bytes) the sender public key
   * the pool recovered for it, so that checking a received block's transactions (`TxChecks`:
   * @ethereumjs's `verifySignature`) does not recover it again — a BFT validator executes every
   * proposal, made of transactions its pool admitted. Impersonated transactions (sender set on the
   * object) and ones already seeded are left alone. Returns how many were seeded.
   */
  seedSenders(txs: readonly TypedTransaction[]): number {
    let seeded = 0
    for (const tx of txs) {
      if (tx.cache.senderPubKey !== undefined || !Object.isFrozen(tx) || Object.hasOwn(tx, 'getSenderAddress')) continue
      encodeOnce(tx)
      const key = this.byHash.get(txHashHex(tx))?.tx.cache.senderPubKey
      if (key === undefined) continue
      tx.cache.senderPubKey = key
      seeded++
    }
    return seeded
  }

  get size(): number {
    return this.byHash.size
  }

  /** Executable and nonce-gapped transaction counts. */
  get counts(): { pending: number; queued: number } {
    return { pending: this.pendingCount, queued: this.queuedCount }
  }

  /** txpool_status: the counts. */
  status(): { pending: number; queued: number } {
    return this.counts
  }

  /** Slots (32 KB units) used by executable and gapped transactions: what the global limits count. */
  get slots(): { pending: number; queued: number } {
    return { pending: this.pendingSlots, queued: this.queuedSlots }
  }

  /** Per sender, the executable run (in nonce order) and the queued rest (in nonce order). */
  async content(): Promise<PoolContent> {
    const pending = new Map<string, TypedTransaction[]>()
    const queued = new Map<string, TypedTransaction[]>()
    for (const [key, sender] of this.senders) {
      const { run, rest } = split(sender)
      if (run.length) pending.set(key, run)
      if (rest.length) queued.set(key, rest)
    }
    return { pending, queued }
  }

  /** txpool_contentFrom: one sender's pending and queued transactions, in nonce order. */
  contentFrom(address: Address): { pending: TypedTransaction[]; queued: TypedTransaction[] } {
    const sender = this.senders.get(address.toString())
    if (!sender) return { pending: [], queued: [] }
    const { run, rest } = split(sender)
    return { pending: run, queued: rest }
  }

  /** txpool_inspect: a one-line summary per transaction, as geth prints it. */
  inspect(): PoolInspect {
    const out: PoolInspect = { pending: {}, queued: {} }
    for (const [key, sender] of this.senders) {
      for (const p of sender.txs.values()) {
        const group = p.pending ? out.pending : out.queued
        const byNonce = group[key] ?? {}
        group[key] = byNonce
        const to = p.tx.to ? p.tx.to.toString() : 'contract creation'
        byNonce[p.nonce.toString()] = `${to}: ${p.tx.value} wei + ${p.tx.gasLimit} gas × ${p.cap} wei`
      }
    }
    return out
  }

  /** Locally submitted transactions, per sender in nonce order (what the journal keeps: no blob transactions). */
  locals(): TypedTransaction[] {
    const out: TypedTransaction[] = []
    for (const sender of this.senders.values()) {
      for (const p of byNonce(sender)) if (p.local && p.blobs === undefined) out.push(p.tx)
    }
    return out
  }

  /** The next nonce for `address` counting its pooled transactions contiguous from the account's. */
  async pendingNonce(address: Address): Promise<bigint> {
    const account = await this.accountAt(address)
    let n = account.nonce
    const sender = this.senders.get(address.toString())
    if (sender) while (sender.txs.has(n)) n++
    return n
  }

  /**
   * Block candidates on the current head, by price and nonce, at `baseFee`. Blob transactions go
   * in only while the block has blob room and pay the blob base fee (`blob`; by default the next
   * block's after the pool's head, at the head's fork): one that does not stops its sender for
   * this block and stays pooled.
   */
  async blockSource(
    baseFee: bigint,
    blob: BlobBlockLimits | null = this.nextBlobLimits(),
  ): Promise<PriceAndNonceSource> {
    const runs: TypedTransaction[][] = []
    for (const sender of this.senders.values()) {
      if (sender.pending > 0) runs.push(pendingRun(sender).map((p) => p.tx))
    }
    return new PriceAndNonceSource(runs, baseFee, blob)
  }

  /** The blob room and blob base fee of the block after the pool's head; null before Cancun. */
  private nextBlobLimits(): BlobBlockLimits | null {
    const common = this.head.common
    if (!common.isActivatedEIP(4844) || this.head.excessBlobGas === undefined) return null
    return { maxBlobs: maxBlobsPerBlock(common), blobBaseFee: this.head.calcNextBlobGasPrice(common) }
  }

  /** True when some sender's next transaction could go into the next block. */
  hasExecutable(baseFee: bigint): boolean {
    for (const s of this.senders.values()) {
      if (s.pending === 0) continue
      const next = s.txs.get(s.stateNonce)
      if (next && coversBaseFee(next.tx, baseFee)) return true
    }
    return false
  }

  /**
   * A new head: drop included and stale transactions, re-check the funds of the senders the block
   * touched, promote what now fits, and put back the transactions of blocks that left the canonical
   * chain (a reorg) when they are still valid. Only the block's senders are re-read, unless the head
   * is not a child of the previous one, a reorg happened or the block carries EIP-7702
   * authorizations (which move other accounts' nonces): then every sender is.
   */
  async onNewHead(head: Block, removed: Block[] = []): Promise<void> {
    try {
      await this.takeNewHead(head, removed)
    } finally {
      // Senders held for room go on (each checks the room again).
      this.admission.release()
    }
  }

  private async takeNewHead(head: Block, removed: Block[]): Promise<void> {
    const prev = this.head
    this.head = head.header
    this.headStateView = null
    this.baseFee = nextBaseFee(head.header)
    this.accountCache = new Map()
    const full =
      removed.length > 0 ||
      !sameBytes(head.header.parentHash, prev.hash()) ||
      head.transactions.some((t) => t.type === 4)
    let touched: SenderTxs[]
    if (full) {
      touched = [...this.senders.values()]
    } else {
      const keys = new Set<string>()
      for (const tx of head.transactions) {
        const known = this.byHash.get(txHashHex(tx))
        const key = known ? known.sender : txSenderHex(tx)
        if (this.senders.has(key)) keys.add(key)
      }
      touched = [...keys].map((k) => this.senders.get(k) as SenderTxs)
    }
    const accounts = await Promise.all(touched.map((s) => this.accountAt(s.address, s.key)))
    touched.forEach((sender, i) => {
      if (this.senders.get(sender.key) === sender) this.resetSender(sender, accounts[i] as Account)
    })
    for (const key of [...this.blocked]) {
      const sender = this.senders.get(key)
      if (sender) this.reclassify(sender)
      else this.blocked.delete(key)
    }
    this.enforceQueueLimit()
    for (const block of removed) {
      for (const tx of block.transactions) await this.validateAndInsert(tx, false).catch(() => {})
    }
    if (this.now() - this.lastExpiry >= EXPIRY_CHECK_MS) this.expireQueued()
    // The eviction heaps drop entries lazily, and compacted only as transactions were pushed: after
    // a burst the block included, they held every included transaction (and its encoding) until
    // the next one arrived — 19,521 of 20,000 in a heap snapshot after a load test.
    this.compact(true, true)
    this.compact(false, true)
  }

  /** Removes transactions the producer could not include (invalid at execution). */
  discard(txs: TypedTransaction[]): void {
    for (const tx of txs) {
      const p = this.byHash.get(txHashHex(tx))
      if (!p) continue
      const sender = this.senders.get(p.sender) as SenderTxs
      this.unlink(p)
      this.reclassify(sender)
    }
    this.enforceQueueLimit()
  }

  /**
   * Drops the queued transactions of accounts idle (nothing added or promoted) for longer than
   * `lifetime`; returns how many were dropped.
   */
  expireQueued(now: number = this.now()): number {
    this.lastExpiry = now
    const limit = this.opts.lifetime * 1000
    let dropped = 0
    for (const sender of [...this.senders.values()]) {
      if (sender.queued === 0 || now - sender.lastActive <= limit) continue
      for (const p of [...sender.txs.values()]) {
        if (p.pending) continue
        this.unlink(p)
        dropped++
      }
      this.reclassify(sender)
    }
    if (dropped > 0) {
      this.modules.metrics?.evicted.inc({ reason: 'expired' }, dropped)
      this.modules.logger.debug({ dropped }, 'txpool: expired queued transactions')
    }
    return dropped
  }

  // -------------------------------------------------------------------------------------------
  // Internal structure. Every change goes through link/unlink (membership and counters) and then
  // reclassify (which transactions of a sender are pending).

  private get headState(): AccountReader {
    this.headStateView ??= this.modules.stateAt(this.modules.stateRootOf?.(this.head) ?? this.head.stateRoot)
    return this.headStateView
  }

  /** `key`: the address as hex, when the caller has it (`address.toString()` otherwise). */
  private accountAt(address: Address, key: string = address.toString()): Promise<Account> {
    let read = this.accountCache.get(key)
    if (!read) {
      if (this.accountCache.size > 50_000) this.accountCache.clear()
      read = this.headState.getAccount(address).then((a) => a ?? { nonce: 0n, balance: 0n })
      this.accountCache.set(key, read)
      read.catch(() => this.accountCache.delete(key))
    }
    return read
  }

  /** Adds `p` to its sender and the indexes, as queued (reclassify promotes it). */
  private link(sender: SenderTxs, p: PoolTx): void {
    sender.txs.set(p.nonce, p)
    sender.cost += p.cost
    sender.queued++
    this.byHash.set(p.hash, p)
    this.queuedCount++
    this.queuedSlots += p.slots
    this.queuedHeap.push(p)
    this.compact(false)
  }

  /** Removes `p` from its sender and the indexes; the caller reclassifies the sender. */
  private unlink(p: PoolTx): void {
    const sender = this.senders.get(p.sender)
    if (!sender || sender.txs.get(p.nonce) !== p) return
    sender.txs.delete(p.nonce)
    sender.cost -= p.cost
    this.byHash.delete(p.hash)
    const sidecar = p.blobs !== undefined ? this.sidecars.get(p.hash) : undefined
    if (sidecar) {
      this.sidecars.delete(p.hash)
      this.blobBytes -= sidecarBytes(sidecar)
    }
    if (p.pending) {
      sender.pending--
      this.pendingCount--
      this.pendingSlots -= p.slots
    } else {
      sender.queued--
      this.queuedCount--
      this.queuedSlots -= p.slots
    }
    p.live = false
    p.version++
  }

  private setPending(sender: SenderTxs, p: PoolTx, pending: boolean): void {
    if (p.pending === pending) return
    const d = pending ? 1 : -1
    p.pending = pending
    p.version++
    sender.pending += d
    sender.queued -= d
    this.pendingCount += d
    this.queuedCount -= d
    this.pendingSlots += d * p.slots
    this.queuedSlots -= d * p.slots
    ;(pending ? this.pendingHeap : this.queuedHeap).push(p)
    this.compact(pending)
  }

  /**
   * Makes the sender's pending transactions exactly its contiguous run from the account nonce, as
   * far as the pending pool has room; demotes everything else. Forgets an empty sender.
   */
  private reclassify(sender: SenderTxs): void {
    if (sender.txs.size === 0) {
      this.senders.delete(sender.key)
      this.blocked.delete(sender.key)
      return
    }
    let end = sender.stateNonce
    while (sender.txs.has(end)) end++
    for (const p of sender.txs.values()) {
      if (p.pending && (p.nonce < sender.stateNonce || p.nonce >= end)) this.setPending(sender, p, false)
    }
    let room = true
    let promoted = false
    for (let n = sender.stateNonce; n < end; n++) {
      const p = sender.txs.get(n) as PoolTx
      if (room && !p.pending) {
        if (this.pendingSlots + p.slots > this.opts.globalSlots) room = false
        else {
          this.setPending(sender, p, true)
          promoted = true
        }
      }
      if (!room && p.pending) this.setPending(sender, p, false)
    }
    if (room) this.blocked.delete(sender.key)
    else this.blocked.add(sender.key)
    if (promoted) sender.lastActive = this.now()
  }

  /**
   * `p` (just linked, queued) has the nonce right after the sender's run of pending transactions,
   * which is exactly the run from the account nonce: it and the queued transactions that follow
   * it without a gap join the run, as far as the pending pool has room. What {@link reclassify}
   * does in that case (nothing before `p` moves), without walking all of the sender's transactions.
   */
  private extendRun(sender: SenderTxs, p: PoolTx): void {
    let next: PoolTx | undefined = p
    let nonce = p.nonce
    let promoted = false
    while (next !== undefined && !next.pending) {
      if (this.pendingSlots + next.slots > this.opts.globalSlots) {
        this.blocked.add(sender.key)
        if (promoted) sender.lastActive = this.now()
        return
      }
      this.setPending(sender, next, true)
      promoted = true
      nonce++
      next = sender.txs.get(nonce)
    }
    this.blocked.delete(sender.key)
    sender.lastActive = this.now()
  }

  /** A new account state for `sender`: drop stale and unpayable transactions, then reclassify. */
  private resetSender(sender: SenderTxs, account: Account): void {
    sender.stateNonce = account.nonce
    sender.balance = account.balance
    let spent = 0n
    let cut = false
    let unpayable = 0
    for (const p of byNonce(sender)) {
      if (p.nonce < account.nonce) {
        this.unlink(p) // included, or its nonce was taken by another transaction
        continue
      }
      spent += p.cost
      // From the first transaction the account cannot pay for (counting the earlier ones), or
      // that no longer fits a block, the rest of the sender's transactions cannot run either.
      if (cut || spent > account.balance || p.tx.gasLimit > this.head.gasLimit) {
        cut = true
        this.unlink(p)
        unpayable++
      }
    }
    if (unpayable > 0) this.modules.metrics?.evicted.inc({ reason: 'unpayable' }, unpayable)
    this.reclassify(sender)
    const live = this.senders.get(sender.key)
    if (live && live.queued > this.opts.accountQueue) {
      const queued = byNonce(live).filter((p) => !p.pending)
      const over = queued.slice(this.opts.accountQueue)
      for (const p of over) this.unlink(p)
      this.modules.metrics?.evicted.inc({ reason: 'account_queue' }, over.length)
      this.reclassify(live)
    }
  }

  /** Removes `p` and the sender's later nonces (which could not run without it). */
  private removeWithDescendants(p: PoolTx, reason: EvictReason): void {
    const sender = this.senders.get(p.sender)
    if (!sender || sender.txs.get(p.nonce) !== p) return
    const doomed = byNonce(sender).filter((t) => t.nonce >= p.nonce)
    for (const t of doomed) this.unlink(t)
    this.modules.metrics?.evicted.inc({ reason }, doomed.length)
    this.reclassify(sender)
  }

  /** Demotions can overfill the queued pool: drop the cheapest queued transactions until it fits. */
  private enforceQueueLimit(): void {
    if (this.queuedSlots <= this.opts.globalQueue) return
    if (this.queuedHeap.baseFee !== this.baseFee) this.queuedHeap.rebuild(this.liveTxs(false), this.baseFee)
    while (this.queuedSlots > this.opts.globalQueue) {
      const v = this.queuedHeap.pop()
      if (!v) break
      this.removeWithDescendants(v, 'full')
    }
  }

  /**
   * Keeps a heap's stale entries (moved or removed transactions) from outgrowing the pool: rebuilt
   * (O(pool)) once they outnumber the live ones, by 1,024 as transactions are pushed; `atHead`
   * without that margin, so a pool a block emptied keeps none. Amortized O(1) per stale entry.
   */
  private compact(pending: boolean, atHead = false): void {
    const heap = pending ? this.pendingHeap : this.queuedHeap
    const live = pending ? this.pendingCount : this.queuedCount
    if (heap.length > 2 * live + (atHead ? 0 : 1024)) heap.rebuild(this.liveTxs(pending), heap.baseFee)
  }

  private kzg(): BlobKzg {
    return this.modules.kzg ?? blobKzg()
  }

  private now(): number {
    return this.modules.now?.() ?? Date.now()
  }
}

/** Blobs a block of `common`'s fork may carry (its blob schedule's max). */
function maxBlobsPerBlock(common: BlockHeader['common']): number {
  return Number(common.getBlobGasSchedule().maxBlobGasPerBlock / common.param('blobGasPerBlob'))
}

/** The base fee of the block after `header` (0 before London). */
function nextBaseFee(header: BlockHeader): bigint {
  return header.baseFeePerGas === undefined ? 0n : header.calcNextBaseFee()
}

function split(sender: SenderTxs): { run: TypedTransaction[]; rest: TypedTransaction[] } {
  const run: TypedTransaction[] = []
  const rest: TypedTransaction[] = []
  for (const p of byNonce(sender)) (p.pending ? run : rest).push(p.tx)
  return { run, rest }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function reject(code: TxPoolErrorCode, detail?: string, hintOverride?: string): CairnError {
  const hint = hintOverride ?? TX_POOL_HINTS[code]
  const message = detail ? `${TX_POOL_MESSAGES[code]}: ${detail}` : TX_POOL_MESSAGES[code]
  return new CairnError(code, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}
