import { bytesToHex, CairnError, type Logger, TypedEmitter } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { TX_POOL_MESSAGES, TxPoolErrorCode } from './errors.ts'
import type { TxPoolMetrics } from './metrics.ts'
import { coversBaseFee, PriceAndNonceSource } from './price-heap.ts'

export interface TxPoolOptions {
  /** Minimum tip (wei) a transaction must offer; 0 in dev. */
  minTip: bigint
  /** Percent by which a replacement must raise both fee fields. */
  priceBump: number
  /** Most executable transactions held. */
  globalSlots: number
  /** Most nonce-gapped transactions held. */
  globalQueue: number
  /** Largest encoded transaction accepted (bytes). */
  maxTxSize: number
}

export const DEFAULT_TXPOOL_OPTIONS: TxPoolOptions = {
  minTip: 1n,
  priceBump: 10,
  globalSlots: 5120,
  globalQueue: 1024,
  maxTxSize: 128 * 1024,
}

/** Reads accounts at the head (nonce and balance are all the pool needs). */
export interface AccountReader {
  getAccount(address: Address): Promise<{ nonce: bigint; balance: bigint } | undefined>
}

export interface TxPoolModules {
  /** State at a head's state root. */
  stateAt(stateRoot: Uint8Array): AccountReader
  head: BlockHeader
  logger: Logger
  metrics: TxPoolMetrics | null
}

export interface TxPoolEvents extends Record<string, unknown> {
  /** A transaction entered the pool (for newPendingTransactions). */
  added: TypedTransaction
}

interface SenderTxs {
  address: Address
  byNonce: Map<bigint, TypedTransaction>
  /** The account's nonce at the head, as last read. */
  stateNonce: bigint
  /** How many of this sender's transactions are executable (contiguous from stateNonce). */
  pending: number
  /** How many wait behind a nonce gap. */
  queued: number
}

const SUPPORTED_TYPES = new Set([0, 1, 2, 4])

/**
 * The transaction pool: admission checks with geth's messages, per-sender nonce ordering
 * (executable runs are pending, gapped ones queued), replacement by price bump, block candidates
 * by price and nonce, and clean-up on every new head (including re-injection after a reorg).
 * The full production pool (limits per account, eviction, journal) grows here.
 */
export class TxPool {
  readonly events = new TypedEmitter<TxPoolEvents>()
  private readonly senders = new Map<string, SenderTxs>()
  private readonly byHash = new Map<string, TypedTransaction>()
  private head: BlockHeader
  private headState: AccountReader
  private pendingTotal = 0
  private queuedTotal = 0

  constructor(
    readonly opts: TxPoolOptions,
    private readonly modules: TxPoolModules,
  ) {
    this.head = modules.head
    this.headState = modules.stateAt(this.head.stateRoot)
  }

  /** Admits a signed transaction, or throws a CairnError whose message is geth's. */
  async add(tx: TypedTransaction): Promise<Uint8Array> {
    try {
      const hash = await this.validateAndInsert(tx)
      this.modules.metrics?.admitted.inc()
      this.events.emit('added', tx)
      return hash
    } catch (err) {
      if (err instanceof CairnError) this.modules.metrics?.rejected.inc({ reason: err.code })
      throw err
    }
  }

  private async validateAndInsert(tx: TypedTransaction): Promise<Uint8Array> {
    const hash = tx.hash()
    const key = bytesToHex(hash)
    if (this.byHash.has(key)) throw reject(TxPoolErrorCode.ALREADY_KNOWN)
    if (!SUPPORTED_TYPES.has(tx.type)) throw reject(TxPoolErrorCode.TYPE_NOT_SUPPORTED)
    if (tx.serialize().length > this.opts.maxTxSize) throw reject(TxPoolErrorCode.OVERSIZED)
    if (tx.gasLimit > this.head.gasLimit) throw reject(TxPoolErrorCode.GAS_LIMIT)
    if (tx.gasLimit < tx.getMinimumGasLimit()) throw reject(TxPoolErrorCode.INTRINSIC_GAS)
    const { cap, tip } = fees(tx)
    if (tip > cap) throw reject(TxPoolErrorCode.TIP_ABOVE_FEE_CAP)
    if (tip < this.opts.minTip) throw reject(TxPoolErrorCode.UNDERPRICED)
    if (tx.nonce >= 2n ** 64n - 1n) throw reject(TxPoolErrorCode.NONCE_MAX)
    let from: Address
    try {
      from = tx.getSenderAddress()
    } catch {
      throw reject(TxPoolErrorCode.INVALID_SENDER)
    }
    const account = (await this.headState.getAccount(from)) ?? { nonce: 0n, balance: 0n }
    // Another add of the same transaction may have finished while this one read the state.
    if (this.byHash.has(key)) throw reject(TxPoolErrorCode.ALREADY_KNOWN)
    if (tx.nonce < account.nonce) throw reject(TxPoolErrorCode.NONCE_TOO_LOW)
    const senderKey = from.toString()
    const sender = this.senders.get(senderKey) ?? {
      address: from,
      byNonce: new Map(),
      stateNonce: 0n,
      pending: 0,
      queued: 0,
    }
    sender.stateNonce = account.nonce
    const existing = sender.byNonce.get(tx.nonce)
    if (existing) {
      // geth's threshold: old * (100 + bump) / 100, rounded down.
      const old = fees(existing)
      const bump = BigInt(100 + this.opts.priceBump)
      if (cap < (old.cap * bump) / 100n || tip < (old.tip * bump) / 100n) {
        throw reject(TxPoolErrorCode.REPLACEMENT_UNDERPRICED)
      }
    }
    let committed = tx.getUpfrontCost()
    for (const [nonce, other] of sender.byNonce) if (nonce !== tx.nonce) committed += other.getUpfrontCost()
    if (account.balance < committed) throw reject(TxPoolErrorCode.INSUFFICIENT_FUNDS)
    if (!existing) {
      const { pending, queued } = this.counts
      const executable = this.isExecutable(sender, tx.nonce, account.nonce)
      if (executable ? pending >= this.opts.globalSlots : queued >= this.opts.globalQueue) {
        throw reject(TxPoolErrorCode.FULL)
      }
    }
    if (existing) {
      this.byHash.delete(bytesToHex(existing.hash()))
      this.modules.metrics?.replaced.inc()
    }
    sender.byNonce.set(tx.nonce, tx)
    this.senders.set(senderKey, sender)
    this.byHash.set(key, tx)
    this.reclassify(sender)
    this.updateGauges()
    return hash
  }

  private isExecutable(sender: SenderTxs, nonce: bigint, stateNonce: bigint): boolean {
    for (let n = stateNonce; n < nonce; n++) if (!sender.byNonce.has(n)) return false
    return true
  }

  /** The transaction with this hash, if pooled. */
  get(hash: Uint8Array): TypedTransaction | undefined {
    return this.byHash.get(bytesToHex(hash))
  }

  get size(): number {
    return this.byHash.size
  }

  /**
   * Per sender, the executable run (contiguous nonces from the account's) and the queued rest.
   */
  async content(): Promise<{ pending: Map<string, TypedTransaction[]>; queued: Map<string, TypedTransaction[]> }> {
    const pending = new Map<string, TypedTransaction[]>()
    const queued = new Map<string, TypedTransaction[]>()
    for (const [key, sender] of this.senders) {
      const account = await this.headState.getAccount(sender.address)
      const { run, rest } = split(sender, account?.nonce ?? 0n)
      if (run.length) pending.set(key, run)
      if (rest.length) queued.set(key, rest)
    }
    return { pending, queued }
  }

  /** The next nonce for `address` counting its executable pooled transactions. */
  async pendingNonce(address: Address): Promise<bigint> {
    const account = await this.headState.getAccount(address)
    let n = account?.nonce ?? 0n
    const sender = this.senders.get(address.toString())
    if (sender) while (sender.byNonce.has(n)) n++
    return n
  }

  /** Block candidates on the current head, by price and nonce, at `baseFee`. */
  async blockSource(baseFee: bigint): Promise<PriceAndNonceSource> {
    const runs: TypedTransaction[][] = []
    for (const sender of this.senders.values()) {
      const account = await this.headState.getAccount(sender.address)
      const { run } = split(sender, account?.nonce ?? 0n)
      if (run.length) runs.push(run)
    }
    return new PriceAndNonceSource(runs, baseFee)
  }

  /** True when some sender's next transaction could go into the next block. */
  hasExecutable(baseFee: bigint): boolean {
    for (const s of this.senders.values()) {
      const next = s.byNonce.get(s.stateNonce)
      if (next && coversBaseFee(next, baseFee)) return true
    }
    return false
  }

  /** Executable and nonce-gapped transaction counts. */
  get counts(): { pending: number; queued: number } {
    return { pending: this.pendingTotal, queued: this.queuedTotal }
  }

  /**
   * A new head: drop included and stale transactions, and put back those of blocks that left
   * the canonical chain (a reorg) when they are still valid.
   */
  async onNewHead(head: Block, removed: Block[] = []): Promise<void> {
    this.head = head.header
    this.headState = this.modules.stateAt(head.header.stateRoot)
    for (const tx of head.transactions) this.drop(tx)
    for (const sender of [...this.senders.values()]) {
      const account = await this.headState.getAccount(sender.address)
      sender.stateNonce = account?.nonce ?? 0n
      for (const [n, tx] of sender.byNonce) if (n < sender.stateNonce) this.drop(tx)
      this.reclassify(sender)
    }
    for (const block of removed) {
      for (const tx of block.transactions) {
        await this.validateAndInsert(tx).catch(() => {})
      }
    }
    this.updateGauges()
  }

  /** Removes transactions the producer could not include (invalid at execution). */
  discard(txs: TypedTransaction[]): void {
    for (const tx of txs) this.drop(tx)
    this.updateGauges()
  }

  private drop(tx: TypedTransaction): void {
    const key = bytesToHex(tx.hash())
    if (!this.byHash.delete(key)) return
    const senderKey = tx.getSenderAddress().toString()
    const sender = this.senders.get(senderKey)
    if (!sender) return
    sender.byNonce.delete(tx.nonce)
    this.reclassify(sender)
  }

  /** Recounts a sender's executable run after a change, keeping the totals in step. */
  private reclassify(sender: SenderTxs): void {
    let run = 0
    for (let n = sender.stateNonce; sender.byNonce.has(n); n++) run++
    const queued = sender.byNonce.size - run
    this.pendingTotal += run - sender.pending
    this.queuedTotal += queued - sender.queued
    sender.pending = run
    sender.queued = queued
    if (sender.byNonce.size === 0) this.senders.delete(sender.address.toString())
  }

  private updateGauges(): void {
    const m = this.modules.metrics
    if (!m) return
    m.pending.set(this.pendingTotal)
    m.queued.set(this.queuedTotal)
  }
}

function fees(tx: TypedTransaction): { cap: bigint; tip: bigint } {
  if ('maxFeePerGas' in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    return { cap: t.maxFeePerGas, tip: t.maxPriorityFeePerGas }
  }
  const price = (tx as unknown as { gasPrice: bigint }).gasPrice
  return { cap: price, tip: price }
}

function split(sender: SenderTxs, stateNonce: bigint): { run: TypedTransaction[]; rest: TypedTransaction[] } {
  const run: TypedTransaction[] = []
  let n = stateNonce
  for (let tx = sender.byNonce.get(n); tx; tx = sender.byNonce.get(++n)) run.push(tx)
  const rest = [...sender.byNonce.entries()]
    .filter(([nonce]) => nonce > n)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, tx]) => tx)
  return { run, rest }
}

function reject(code: TxPoolErrorCode): CairnError {
  return new CairnError(code, TX_POOL_MESSAGES[code], { fault: 'caller' })
}
