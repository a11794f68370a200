// What the pool is given (options, modules) and how a transaction reaches it (AddOptions).
import type { SenderRecovery } from '@cairn/chain'
import type { BlobKzg } from '@cairn/crypto'
import type { Logger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import type { BlobSidecar } from './blob-sidecar.ts'
import type { TxPoolMetrics } from './metrics.ts'

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
  /**
   * A rule of the node's own, run once the sender is recovered, before the state is read: throws a
   * CairnError to refuse (a shard refuses senders whose home shard is another). Absent: none.
   */
  admit?(tx: TypedTransaction, sender: Address): void
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
