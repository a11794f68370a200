import { type ChainReader, decodeTransaction } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { P2pErrorCode } from './errors.ts'

/** Blob transactions travel with their sidecars, which gossip does not carry: they are not gossiped. */
export const BLOB_TX_TYPE_GUARD = Symbol('blob transaction')

/**
 * Decodes a gossiped transaction (its canonical encoding) under the chain's current rules, keeping
 * the bytes as its encoding (`seedEncodedTx`): its hash, signing hash and the body served to the
 * next peer are cut from them instead of re-serializing every field.
 */
export function decodeTx(
  bytes: Uint8Array,
  chain: Pick<ChainReader, 'common'>,
): TypedTransaction | typeof BLOB_TX_TYPE_GUARD {
  if (bytes[0] === 3) return BLOB_TX_TYPE_GUARD
  try {
    return decodeTransaction(bytes, chain.common)
  } catch (err) {
    throw new CairnError(P2pErrorCode.DECODE, `bad transaction: ${(err as Error).message}`, {
      fault: 'peer',
      cause: err,
    })
  }
}
