// The pool's indexes and the invariants they keep (the README's *Pending and queued* and *Limits
// and eviction*): per-sender nonce lists, the hash index, blob sidecars, the pending and queued
// counts and slots, the eviction heaps and the senders blocked for room. Every change goes through
// link/unlink (membership and counters) and then reclassify (which of a sender's transactions are
// pending). Admission policy (the checklist: validator.ts) and head-following are the pool's.
import type { Address } from '@ethereumjs/util'
import { type BlobSidecar, sidecarBytes } from './blob-sidecar.ts'
import { TxPoolErrorCode } from './errors.ts'
import { EvictHeap } from './evict-heap.ts'
import type { TxPoolMetrics } from './metrics.ts'
import type { TxPoolOptions } from './pool-options.ts'
import { comparePrice, type PoolTx } from './pool-tx.ts'
import { byNonce, newSender, type SenderTxs } from './sender.ts'
import { reject } from './validator.ts'

/** An account at the head, as the pool reads it. */
export type Account = { nonce: bigint; balance: bigint }
export type EvictReason = 'full' | 'expired' | 'unpayable' | 'account_queue' | 'unjournaled'

export type PoolIndexLimits = Pick<TxPoolOptions, 'globalSlots' | 'globalQueue' | 'accountQueue'>

export interface PoolIndexModules {
  metrics: TxPoolMetrics | null
  /** Clock in ms; Date.now by default. */
  now?: () => number
}

/** What an eviction victim is compared with: the candidate's price and whether it is local. */
export interface EvictionCandidate {
  cap: bigint
  tip: bigint
  local: boolean
}

/**
 * The structure of the pool. Work per change is proportional to the sender involved, never to the
 * whole pool (the heaps drop stale entries lazily; {@link compact} keeps them bounded).
 */
export class PoolIndex {
  readonly senders = new Map<string, SenderTxs>()
  readonly byHash = new Map<string, PoolTx>()
  /** Blob transactions' sidecars by transaction hash: kept beside the pool, dropped with the transaction. */
  readonly sidecars = new Map<string, BlobSidecar>()
  /** Senders whose promotion stopped for lack of pending room. */
  readonly blocked = new Set<string>()
  readonly pendingHeap: EvictHeap
  readonly queuedHeap: EvictHeap
  /** Base fee of the next block: the price at which eviction compares transactions. */
  baseFee: bigint
  #blobBytes = 0
  #pendingCount = 0
  #queuedCount = 0
  #pendingSlots = 0
  #queuedSlots = 0

  constructor(
    private readonly limits: PoolIndexLimits,
    private readonly modules: PoolIndexModules,
    baseFee: bigint,
  ) {
    this.baseFee = baseFee
    this.pendingHeap = new EvictHeap(baseFee)
    this.queuedHeap = new EvictHeap(baseFee)
  }

  get pendingCount(): number {
    return this.#pendingCount
  }

  get queuedCount(): number {
    return this.#queuedCount
  }

  get pendingSlots(): number {
    return this.#pendingSlots
  }

  get queuedSlots(): number {
    return this.#queuedSlots
  }

  /** Bytes of blob data held (128 KiB per blob). */
  get blobBytes(): number {
    return this.#blobBytes
  }

  /** The bytes of blob data the pooled transaction with hash `hash` holds (0 for none). */
  sidecarBytesOf(hash: string): number {
    const sidecar = this.sidecars.get(hash)
    return sidecar ? sidecarBytes(sidecar) : 0
  }

  /**
   * Inserts an admitted transaction (its checks passed, its victims removed): it replaces the
   * sender's transaction of the same nonce, and joins the pending run when it extends it.
   * Incremental where the sender's pending transactions are exactly its run from the account
   * nonce (it is not blocked for room): a transaction past the run's end leaves it as it was, one
   * at its end extends it; anything else walks the sender (reclassify). Fetched transactions
   * arrive out of nonce order: walking every time made a sender's admissions O(n²).
   */
  insert(from: Address, account: Account, ptx: PoolTx, sidecar: BlobSidecar | undefined, incremental: boolean): void {
    let sender = this.senders.get(ptx.sender)
    if (!sender) {
      sender = newSender(from, account.nonce, account.balance, this.now())
      this.senders.set(ptx.sender, sender)
    }
    const old = sender.txs.get(ptx.nonce)
    if (old) {
      this.unlink(old)
      this.modules.metrics?.replaced.inc()
    }
    this.link(sender, ptx)
    if (sidecar) {
      this.sidecars.set(ptx.hash, sidecar)
      this.#blobBytes += sidecarBytes(sidecar)
    }
    sender.lastActive = this.now()
    const runEnd = sender.stateNonce + BigInt(sender.pending)
    if (old || !incremental || this.blocked.has(sender.key) || ptx.nonce < runEnd) this.reclassify(sender)
    else if (ptx.nonce === runEnd) this.extendRun(sender, ptx)
  }

  /** Adds `p` to its sender and the indexes, as queued (reclassify promotes it). */
  private link(sender: SenderTxs, p: PoolTx): void {
    sender.txs.set(p.nonce, p)
    sender.cost += p.cost
    sender.queued++
    this.byHash.set(p.hash, p)
    this.#queuedCount++
    this.#queuedSlots += p.slots
    this.queuedHeap.push(p)
    this.compact(false)
  }

  /** Removes `p` from its sender and the indexes; the caller reclassifies the sender. */
  unlink(p: PoolTx): void {
    const sender = this.senders.get(p.sender)
    if (!sender || sender.txs.get(p.nonce) !== p) return
    sender.txs.delete(p.nonce)
    sender.cost -= p.cost
    this.byHash.delete(p.hash)
    const sidecar = p.blobs !== undefined ? this.sidecars.get(p.hash) : undefined
    if (sidecar) {
      this.sidecars.delete(p.hash)
      this.#blobBytes -= sidecarBytes(sidecar)
    }
    if (p.pending) {
      sender.pending--
      this.#pendingCount--
      this.#pendingSlots -= p.slots
    } else {
      sender.queued--
      this.#queuedCount--
      this.#queuedSlots -= p.slots
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
    this.#pendingCount += d
    this.#queuedCount -= d
    this.#pendingSlots += d * p.slots
    this.#queuedSlots -= d * p.slots
    ;(pending ? this.pendingHeap : this.queuedHeap).push(p)
    this.compact(pending)
  }

  /**
   * Makes the sender's pending transactions exactly its contiguous run from the account nonce, as
   * far as the pending pool has room; demotes everything else. Forgets an empty sender.
   */
  reclassify(sender: SenderTxs): void {
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
        if (this.#pendingSlots + p.slots > this.limits.globalSlots) room = false
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
      if (this.#pendingSlots + next.slots > this.limits.globalSlots) {
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

  /**
   * A new account state for `sender`: drop stale and unpayable transactions (and those over a
   * block's gas limit, `blockGasLimit`), then reclassify.
   */
  resetSender(sender: SenderTxs, account: Account, blockGasLimit: bigint): void {
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
      if (cut || spent > account.balance || p.tx.gasLimit > blockGasLimit) {
        cut = true
        this.unlink(p)
        unpayable++
      }
    }
    if (unpayable > 0) this.modules.metrics?.evicted.inc({ reason: 'unpayable' }, unpayable)
    this.reclassify(sender)
    const live = this.senders.get(sender.key)
    if (live && live.queued > this.limits.accountQueue) {
      const queued = byNonce(live).filter((p) => !p.pending)
      const over = queued.slice(this.limits.accountQueue)
      for (const p of over) this.unlink(p)
      this.modules.metrics?.evicted.inc({ reason: 'account_queue' }, over.length)
      this.reclassify(live)
    }
  }

  /** Removes `p` and the sender's later nonces (which could not run without it). */
  removeWithDescendants(p: PoolTx, reason: EvictReason): void {
    const sender = this.senders.get(p.sender)
    if (!sender || sender.txs.get(p.nonce) !== p) return
    const doomed = byNonce(sender).filter((t) => t.nonce >= p.nonce)
    for (const t of doomed) this.unlink(t)
    this.modules.metrics?.evicted.inc({ reason }, doomed.length)
    this.reclassify(sender)
  }

  /** Demotions can overfill the queued pool: drop the cheapest queued transactions until it fits. */
  enforceQueueLimit(): void {
    if (this.#queuedSlots <= this.limits.globalQueue) return
    if (this.queuedHeap.baseFee !== this.baseFee) this.queuedHeap.rebuild(this.liveTxs(false), this.baseFee)
    while (this.#queuedSlots > this.limits.globalQueue) {
      const v = this.queuedHeap.pop()
      if (!v) break
      this.removeWithDescendants(v, 'full')
    }
  }

  /**
   * Victims to free `missing` slots of the pending (or queued) pool for a transaction priced
   * `candidate`: the cheapest first, each strictly cheaper than the candidate, never the candidate
   * sender's own earlier nonces, and never a local transaction for a remote one (eviction class:
   * a peer's gossip cannot push out what this node's users sent). Throws "txpool is full" (and
   * leaves the heap as it was) otherwise.
   */
  pickVictims(
    pending: boolean,
    missing: number,
    candidate: EvictionCandidate,
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

  /**
   * Keeps a heap's stale entries (moved or removed transactions) from outgrowing the pool: rebuilt
   * (O(pool)) once they outnumber the live ones, by 1,024 as transactions are pushed; `atHead`
   * without that margin, so a pool a block emptied keeps none. Amortized O(1) per stale entry.
   */
  compact(pending: boolean, atHead = false): void {
    const heap = pending ? this.pendingHeap : this.queuedHeap
    const live = pending ? this.#pendingCount : this.#queuedCount
    if (heap.length > 2 * live + (atHead ? 0 : 1024)) heap.rebuild(this.liveTxs(pending), heap.baseFee)
  }

  private *liveTxs(pending: boolean): Iterable<PoolTx> {
    for (const p of this.byHash.values()) if (p.pending === pending) yield p
  }

  private now(): number {
    return this.modules.now?.() ?? Date.now()
  }
}
