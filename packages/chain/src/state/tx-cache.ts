import { keccak256, publicKeyToAddress } from '@cairn/crypto'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'

/**
 * What Cairn derives once per transaction object, kept on the object's own `cache` (where
 * @ethereumjs keeps its hash and sender key; a frozen transaction's `cache` stays writable) rather
 * than in WeakMaps: a WeakMap entry per transaction gave every transaction an identity hash and an
 * ephemeron for the GC to trace; lookups, identity hashes and ephemeron work were 1.9% of a
 * transfer flood's process CPU (perf; docs/performance-history.md, eighteenth session).
 */
type DerivedCache = TypedTransaction['cache'] & {
  /** The consensus encoding (see {@link encodedTx}). */
  encoded?: Uint8Array
  /** The sender (see {@link txSender}). */
  sender?: Address
  /** The hash as hex (see {@link txHashHex}). */
  hashHex?: Hex
  /** The sender as hex (see {@link txSenderHex}). */
  senderHex?: Hex
}

function derived(tx: TypedTransaction): DerivedCache {
  return tx.cache as DerivedCache
}

/**
 * The transaction's consensus encoding, computed once per transaction object (a transaction is
 * immutable: frozen by @ethereumjs). Seeds @ethereumjs's hash cache from the same bytes, so the
 * size check, the hash, the transactions trie and the block body share one `serialize()`.
 */
export function encodedTx(tx: TypedTransaction): Uint8Array {
  const cache = derived(tx)
  let raw = cache.encoded
  if (raw === undefined) {
    raw = tx.serialize()
    cache.encoded = raw
    if (Object.isFrozen(tx) && cache.hash === undefined) cache.hash = keccak256(raw)
  }
  return raw
}

/**
 * Records `raw` as the encoding of `tx`, decoded from exactly these bytes (`createTxFromRLP`), and
 * seeds its hash from them: admission of a raw transaction then neither re-serializes it nor
 * hashes a second copy. Sound because @ethereumjs decodes only canonical encodings (RLP with
 * minimal lengths and no remainder, integers without leading zeros), which re-serialize to the
 * same bytes; `packages/txpool/test/raw-encoding.test.ts` checks that property.
 */
export function seedEncodedTx(tx: TypedTransaction, raw: Uint8Array): void {
  // Types 0-2 only (the ones the property test covers); others are serialized as before.
  const cache = derived(tx)
  if (tx.type > 2 || !Object.isFrozen(tx) || cache.encoded !== undefined) return
  cache.encoded = raw
  if (cache.hash === undefined) cache.hash = keccak256(raw)
}

/**
 * The sender, derived once per transaction object from its (cached) public key with Cairn's
 * keccak: `tx.getSenderAddress()` re-hashes the key with a pure-JS keccak on every call. A
 * transaction whose sender is set on the object (dev-mode impersonation) keeps it.
 */
export function txSender(tx: TypedTransaction): Address {
  if (Object.hasOwn(tx, 'getSenderAddress')) return tx.getSenderAddress()
  const cache = derived(tx)
  let sender = cache.sender
  if (sender === undefined) {
    sender = new Address(publicKeyToAddress(tx.getSenderPublicKey()))
    cache.sender = sender
  }
  return sender
}

/**
 * The transaction's hash as lower-case 0x-prefixed hex, made once per frozen transaction object:
 * the pool's key, the RPC answer and the removal of a mined transaction each made their own (five
 * conversions of the same 32 bytes a transfer). An unfrozen transaction's hash can change, so it
 * is not kept.
 */
export function txHashHex(tx: TypedTransaction): Hex {
  const cache = derived(tx)
  let hex = cache.hashHex
  if (hex === undefined) {
    hex = bytesToHex(tx.hash())
    if (Object.isFrozen(tx)) cache.hashHex = hex
  }
  return hex
}

/**
 * The sender as lower-case 0x-prefixed hex (`txSender(tx).toString()`), made once per transaction
 * object whose sender is kept (not an impersonated one, which answers its own).
 */
export function txSenderHex(tx: TypedTransaction): Hex {
  if (Object.hasOwn(tx, 'getSenderAddress')) return tx.getSenderAddress().toString()
  const cache = derived(tx)
  let hex = cache.senderHex
  if (hex === undefined) {
    // Cairn's bytesToHex (native from 16 bytes) rather than Address.toString's per-byte table.
    hex = bytesToHex(txSender(tx).bytes)
    cache.senderHex = hex
  }
  return hex
}
