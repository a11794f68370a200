import { isCairnError } from '@cairn/utils'
import { TxPoolErrorCode } from './errors.ts'

/**
 * What a refused transaction says about the peer that sent it (reth's `is_bad_transaction`):
 * `bad` — the transaction is invalid whatever the pool's state (signature, encoding, chain id,
 * size, type, fee fields that contradict each other): penalize the peer; `ignore` — it may be
 * fine elsewhere or later (known, nonce too low, underpriced, pool or account full, funds):
 * drop it without blame.
 */
export type RefusalClass = 'bad' | 'ignore'

const BAD: ReadonlySet<string> = new Set([
  TxPoolErrorCode.INVALID_SENDER,
  TxPoolErrorCode.OVERSIZED,
  TxPoolErrorCode.TYPE_NOT_SUPPORTED,
  TxPoolErrorCode.INTRINSIC_GAS,
  TxPoolErrorCode.TIP_ABOVE_FEE_CAP,
  TxPoolErrorCode.NONCE_MAX,
  TxPoolErrorCode.GAS_LIMIT,
])

/** Classifies a refusal from `TxPool.add` (any other error: a decoding or chain-id failure is `bad`). */
export function classifyRefusal(err: unknown): RefusalClass {
  if (!isCairnError(err)) return 'bad'
  if (err.code.startsWith('TXPOOL_')) return BAD.has(err.code) ? 'bad' : 'ignore'
  // Outside the pool's own checks: a transient fault here is nobody's; a caller fault (decoding,
  // chain id, an unprotected transaction) is the sender's.
  return err.fault === 'caller' ? 'bad' : 'ignore'
}
