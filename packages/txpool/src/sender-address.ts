import { encodedTx, txSender } from '@cairn/chain'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'

/**
 * The sender of a signed transaction, from its cached public key hashed with Cairn's keccak, once
 * per transaction object (`tx.getSenderAddress()` re-hashes the key with @ethereumjs's pure-JS
 * keccak on every call: ~13 µs, a fifth of an admission). Shared with the executor
 * (`txSender` of @cairn/chain), so block building does not derive it again. A transaction whose
 * sender is set on the object (dev-mode impersonation) keeps it.
 */
export function senderOf(tx: TypedTransaction): Address {
  return txSender(tx)
}

/**
 * The encoded transaction, computed once per transaction object and seeding @ethereumjs's hash
 * cache from it: the hash, the transactions trie and the stored block body reuse these bytes.
 */
export function encodeOnce(tx: TypedTransaction): Uint8Array {
  return encodedTx(tx)
}
