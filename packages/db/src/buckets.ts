/**
 * Every key in the store starts with one bucket byte. This table is the registry of buckets:
 * each says what its keys and values are. An id is never reused; retire one by commenting it out.
 */
export enum Bucket {
  /** block hash (32) -> RLP header */
  header = 1,
  /** block hash (32) -> RLP [transactions, uncles, withdrawals?] */
  body = 2,
  /** block hash (32) -> RLP list of receipts (consensus encoding) + per-tx metadata */
  receipts = 3,
  /** tx hash (32) -> block hash (32) ++ tx index (uint32 BE) */
  txIndex = 4,
  /** block number (uint64 BE) -> canonical block hash (32) */
  canonical = 5,
  /** block hash (32) -> block number (uint64 BE) */
  hashToNumber = 6,
  /** head name (utf-8) -> block hash (32); names in HeadPointer */
  head = 7,
  /** state trie node hash (32) -> RLP trie node; also contract code hash -> code */
  state = 8,
  /** block hash (32) -> total difficulty / fork-choice weight (uint256 BE) */
  weight = 9,
  /** metadata key (utf-8) -> value; chain id, genesis hash, schema version */
  meta = 10,
  /** tx hash (32) -> sender address (20), for dev-mode impersonated transactions (no valid signature) */
  senderOverride = 11,
  /** finalized block hash (32) -> finality certificate (engine-defined bytes; empty for rule finality) */
  finality = 12,
  /**
   * address (20) -> 0x01, or address (20) ++ slot (32) -> 0x01: the preimages of state trie keys
   * written on a dev chain (anvil_dumpState lists accounts and slots from them)
   */
  preimage = 13,
  /**
   * block hash (32) -> state root (32): a dev chain's state after the block plus the state edits
   * (anvil_setBalance and kin) made while it was the head; absent for a block never edited
   */
  editedState = 14,
}

/** `bucket ++ key` */
export function bucketKey(bucket: Bucket, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1)
  out[0] = bucket
  out.set(key, 1)
  return out
}

/** The range [bucket, bucket+1) for iterating a whole bucket. */
export function bucketRange(bucket: Bucket): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: new Uint8Array([bucket]), lt: new Uint8Array([bucket + 1]) }
}
