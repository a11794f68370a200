import { keccak256, publicKeyToAddress } from '@cairn/crypto'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'

/**
 * The sender of a signed transaction, from its cached public key hashed with Cairn's keccak
 * (`tx.getSenderAddress()` re-hashes the key with @ethereumjs's pure-JS keccak on every call:
 * ~13 µs, a fifth of an admission). A transaction whose sender is set on the object (dev-mode
 * impersonation) keeps it.
 */
export function senderOf(tx: TypedTransaction): Address {
  if (Object.hasOwn(tx, 'getSenderAddress')) return tx.getSenderAddress()
  return new Address(publicKeyToAddress(tx.getSenderPublicKey()))
}

/**
 * The encoded transaction, seeding @ethereumjs's hash cache from it: the hash is the keccak of
 * exactly these bytes, so `tx.hash()` then costs no second encoding.
 */
export function encodeOnce(tx: TypedTransaction): Uint8Array {
  const raw = tx.serialize()
  if (Object.isFrozen(tx) && tx.cache.hash === undefined) tx.cache.hash = keccak256(raw)
  return raw
}
