import { isCairnError } from '@cairn/utils'
import type { TxPoolErrorCode } from './errors.ts'

/**
 * What a refused transaction says about the peer that sent it (reth's `is_bad_transaction`):
 * `bad` — the transaction is invalid whatever the pool's state (signature, encoding, chain id,
 * size, type, fee fields that contradict each other): penalize the peer; `ignore` — it may be
 * fine elsewhere or later (known, nonce too low, underpriced, pool or account full, funds):
 * drop it without blame.
 */
export type RefusalClass = 'bad' | 'ignore'

/**
 * Every pool code, classified: a code added to {@link TxPoolErrorCode} fails the type check here
 * until someone decides whether it blames the sender.
 */
export const REFUSAL_CLASS: Readonly<Record<TxPoolErrorCode, RefusalClass>> = {
  // Invalid whatever the pool holds or the chain's state.
  TXPOOL_INVALID_SENDER: 'bad',
  TXPOOL_OVERSIZED: 'bad',
  TXPOOL_TYPE_NOT_SUPPORTED: 'bad',
  TXPOOL_INTRINSIC_GAS: 'bad',
  TXPOOL_TIP_ABOVE_FEE_CAP: 'bad',
  TXPOOL_NONCE_MAX: 'bad',
  TXPOOL_GAS_LIMIT: 'bad',
  // A blob transaction gossiped without its blobs, or with blobs or proofs that do not verify, was
  // made invalid by whoever sent it (geth drops such a peer).
  TXPOOL_BLOB_SIDECAR_MISSING: 'bad',
  TXPOOL_BLOB_SIDECAR_INVALID: 'bad',
  TXPOOL_BLOB_PROOF_INVALID: 'bad',
  // Fine elsewhere or later: the pool's or the account's state, the price of the moment.
  TXPOOL_ALREADY_KNOWN: 'ignore',
  TXPOOL_NONCE_TOO_LOW: 'ignore',
  TXPOOL_INSUFFICIENT_FUNDS: 'ignore',
  TXPOOL_UNDERPRICED: 'ignore',
  TXPOOL_REPLACEMENT_UNDERPRICED: 'ignore',
  TXPOOL_FULL: 'ignore',
  TXPOOL_ACCOUNT_LIMIT: 'ignore',
  // Fork-dependent: a peer across a fork boundary (the sidecar's version, a blob limit that a BPO
  // fork changes) is not to blame.
  TXPOOL_BLOB_SIDECAR_VERSION: 'ignore',
  TXPOOL_BLOB_LIMIT: 'ignore',
  // This node's own disk.
  TXPOOL_JOURNAL_UNWRITABLE: 'ignore',
  TXPOOL_JOURNAL_UNREADABLE: 'ignore',
}

/** Classifies a refusal from `TxPool.add` (any other error: a decoding or chain-id failure is `bad`). */
export function classifyRefusal(err: unknown): RefusalClass {
  if (!isCairnError(err)) return 'bad'
  const pooled = REFUSAL_CLASS[err.code as TxPoolErrorCode] as RefusalClass | undefined
  if (pooled !== undefined) return pooled
  // Outside the pool's own checks: a transient fault here is nobody's; a caller fault (decoding,
  // chain id, an unprotected transaction) is the sender's.
  return err.fault === 'caller' ? 'bad' : 'ignore'
}
