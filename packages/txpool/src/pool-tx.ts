import type { TypedTransaction } from '@ethereumjs/tx'

/** Bytes per slot: a transaction takes ceil(size / 32 KB) slots of the global limits (geth's txSlotSize). */
export const SLOT_SIZE = 32 * 1024

/**
 * A pooled transaction with what the pool needs about it computed once at admission: fee fields,
 * upfront cost (gas × fee cap + value, as geth's `tx.Cost()`), size in slots, and where it sits.
 */
export interface PoolTx {
  readonly tx: TypedTransaction
  readonly hash: string
  /** Sender address, lower-case 0x hex. */
  readonly sender: string
  readonly nonce: bigint
  /** maxFeePerGas (gasPrice for legacy/2930). */
  readonly cap: bigint
  /** maxPriorityFeePerGas (gasPrice for legacy/2930). */
  readonly tip: bigint
  readonly cost: bigint
  readonly slots: number
  /** Submitted to this node (journaled), not received from a peer. */
  readonly local: boolean
  /** Executable (in the sender's contiguous run from the account nonce) or waiting behind a gap. */
  pending: boolean
  /** Bumped on every move or removal so stale eviction-heap entries can be recognised. */
  version: number
  live: boolean
  /** Blob transactions: how many blobs (its sidecar is kept by the pool under its hash). */
  readonly blobs?: number
  /** Blob transactions: maxFeePerBlobGas. */
  readonly blobFeeCap?: bigint
}

/** A blob transaction's blob count and maxFeePerBlobGas; undefined for other types. */
export function blobFieldsOf(tx: TypedTransaction): { count: number; feeCap: bigint } | undefined {
  if (tx.type !== 3) return undefined
  const t = tx as unknown as { blobVersionedHashes: unknown[]; maxFeePerBlobGas: bigint }
  return { count: t.blobVersionedHashes.length, feeCap: t.maxFeePerBlobGas }
}

/** Fee cap and tip of any supported transaction type. */
export function feesOf(tx: TypedTransaction): { cap: bigint; tip: bigint } {
  if ('maxFeePerGas' in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    return { cap: t.maxFeePerGas, tip: t.maxPriorityFeePerGas }
  }
  const price = (tx as unknown as { gasPrice: bigint }).gasPrice
  return { cap: price, tip: price }
}

/** `min(tip, cap − baseFee)`: what the producer earns per gas; negative when the cap is below the base fee. */
export function tipAt(p: { cap: bigint; tip: bigint }, baseFee: bigint): bigint {
  const room = p.cap - baseFee
  return p.tip < room ? p.tip : room
}

/**
 * geth's priced-list order: effective tip at `baseFee`, then fee cap, then tip. Negative when `a` is
 * cheaper than `b`.
 */
export function comparePrice(
  a: { cap: bigint; tip: bigint },
  b: { cap: bigint; tip: bigint },
  baseFee: bigint,
): number {
  const ta = tipAt(a, baseFee)
  const tb = tipAt(b, baseFee)
  if (ta !== tb) return ta < tb ? -1 : 1
  if (a.cap !== b.cap) return a.cap < b.cap ? -1 : 1
  if (a.tip !== b.tip) return a.tip < b.tip ? -1 : 1
  return 0
}

/** Slots taken by an encoded transaction of `size` bytes. */
export function slotsOf(size: number): number {
  return Math.max(1, Math.ceil(size / SLOT_SIZE))
}
