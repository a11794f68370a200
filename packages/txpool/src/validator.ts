// The admission checklist (reth splits its validator from its pool; ethereumjs's `validate()`):
// each check one line against a named limit of the pool's options, in the order `TxPool.add` runs
// them; a refusal is a CairnError whose message is geth's (the README's *How a transaction moves*).
// The checks that read the pool's own indexes — already known, room and eviction — stay with the
// pool (pool.ts, pool-index.ts).
import { CairnError } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type BlobSidecar, sidecarVersionFor } from './blob-sidecar.ts'
import { TX_POOL_HINTS, TX_POOL_MESSAGES, TxPoolErrorCode } from './errors.ts'
import type { TxPoolOptions } from './pool-options.ts'
import { blobFieldsOf, feesOf, type PoolTx } from './pool-tx.ts'

/** The limits the checklist reads. */
export type AdmissionLimits = Pick<
  TxPoolOptions,
  'minTip' | 'maxTxSize' | 'priceBump' | 'blobPriceBump' | 'blobAccountLimit' | 'blobCap' | 'accountQueue'
>

/** Legacy, 2930, 1559 and 7702; blob transactions (type 3) from Cancun on. */
const SUPPORTED_TYPES = new Set([0, 1, 2, 4])
export const BLOB_TX_TYPE = 3
/** A nonce at 2^64−1 can never be followed (EIP-2681). */
const NONCE_MAX = 2n ** 64n - 1n

/** A blob transaction's sidecar, maxFeePerBlobGas and blob gas, once its stateless checks passed. */
export interface BlobTxFields {
  sidecar: BlobSidecar
  feeCap: bigint
  gas: bigint
}

/** What the stateless checks read off a transaction: its fee fields and, for a blob transaction, its blobs. */
export interface StatelessChecked {
  cap: bigint
  tip: bigint
  blob: BlobTxFields | undefined
}

/** The refusal `code` as geth words it (`detail` appended), with its hint. */
export function reject(code: TxPoolErrorCode, detail?: string, hintOverride?: string): CairnError {
  const hint = hintOverride ?? TX_POOL_HINTS[code]
  const message = detail ? `${TX_POOL_MESSAGES[code]}: ${detail}` : TX_POOL_MESSAGES[code]
  return new CairnError(code, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}

/**
 * The checks that need no state, at the head `head`; `size` is the transaction's encoded length.
 * The sender's signature and a blob sidecar's proofs are checked after (they cost the most).
 */
export function checkStateless(
  tx: TypedTransaction,
  size: number,
  head: BlockHeader,
  limits: AdmissionLimits,
  sidecar: BlobSidecar | undefined,
): StatelessChecked {
  const isBlob = tx.type === BLOB_TX_TYPE && head.common.isActivatedEIP(4844)
  if (!SUPPORTED_TYPES.has(tx.type) && !isBlob) throw reject(TxPoolErrorCode.TYPE_NOT_SUPPORTED)
  if (size > limits.maxTxSize) throw reject(TxPoolErrorCode.OVERSIZED)
  if (tx.gasLimit > head.gasLimit) throw reject(TxPoolErrorCode.GAS_LIMIT)
  if (tx.gasLimit < tx.getMinimumGasLimit()) throw reject(TxPoolErrorCode.INTRINSIC_GAS)
  const { cap, tip } = feesOf(tx)
  if (tip > cap) throw reject(TxPoolErrorCode.TIP_ABOVE_FEE_CAP)
  if (tip < limits.minTip) throw reject(TxPoolErrorCode.UNDERPRICED)
  if (tx.nonce >= NONCE_MAX) throw reject(TxPoolErrorCode.NONCE_MAX)
  const blob = isBlob ? checkBlobTx(tx, sidecar, head.common) : undefined
  return { cap, tip, blob }
}

/**
 * The stateless checks of a blob transaction (geth's blobpool): it carries its sidecar, of the
 * version the head's fork takes, and no more blobs than a transaction and a block may carry.
 */
export function checkBlobTx(
  tx: TypedTransaction,
  sidecar: BlobSidecar | undefined,
  common: BlockHeader['common'],
): BlobTxFields {
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

/** The account has not used the nonce yet. */
export function checkNonce(tx: TypedTransaction, accountNonce: bigint): void {
  if (tx.nonce < accountNonce) throw reject(TxPoolErrorCode.NONCE_TOO_LOW)
}

/**
 * A replacement (same sender and nonce as `existing`) raises both fee fields by `priceBump`
 * percent — geth's threshold: old × (100 + bump) / 100, rounded down. A blob transaction, or one
 * that replaces one, raises every fee field, maxFeePerBlobGas included, by `blobPriceBump`.
 */
export function checkReplacement(existing: PoolTx | undefined, fees: StatelessChecked, limits: AdmissionLimits): void {
  if (!existing) return
  const { cap, tip, blob } = fees
  const blobBump = blob !== undefined || existing.blobs !== undefined
  const pct = blobBump ? limits.blobPriceBump : limits.priceBump
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

/** The sender holds fewer than `blobAccountLimit` other blob transactions (`held`). */
export function checkBlobAccountLimit(held: number, limits: AdmissionLimits): void {
  if (held >= limits.blobAccountLimit) {
    throw reject(TxPoolErrorCode.ACCOUNT_LIMIT, `have ${held} blob transactions, permitted ${limits.blobAccountLimit}`)
  }
}

/** The pool's blob data stays within `blobCap` bytes: `held` now, less `freed` by a replacement, plus `added`. */
export function checkBlobCap(held: number, freed: number, added: number, limits: AdmissionLimits): void {
  if (held - freed + added > limits.blobCap) {
    throw reject(TxPoolErrorCode.FULL, 'the pool holds its most blob data (blobCap)')
  }
}

/** Upfront cost (geth's `tx.Cost()`): gas × fee cap + value, and the blob gas at its fee cap. */
export function upfrontCost(tx: TypedTransaction, fees: StatelessChecked): bigint {
  const { cap, blob } = fees
  return tx.gasLimit * cap + tx.value + (blob ? blob.gas * blob.feeCap : 0n)
}

/** The balance pays for this transaction and the sender's other pooled ones (`committed`, together). */
export function checkFunds(balance: bigint, committed: bigint): void {
  if (balance < committed) throw reject(TxPoolErrorCode.INSUFFICIENT_FUNDS)
}

/** A new gapped transaction: the sender holds fewer than `accountQueue` gapped ones (`queued`). */
export function checkAccountQueue(queued: number, limits: AdmissionLimits): void {
  if (queued >= limits.accountQueue) throw reject(TxPoolErrorCode.ACCOUNT_LIMIT)
}

/** Blobs a block of `common`'s fork may carry (its blob schedule's max). */
export function maxBlobsPerBlock(common: BlockHeader['common']): number {
  return Number(common.getBlobGasSchedule().maxBlobGasPerBlock / common.param('blobGasPerBlob'))
}
