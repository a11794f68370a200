/**
 * Error codes of sharding (the shard map, cross-shard messages, their proofs and channels, the
 * light client of a shard). A domain of its own beside `ConsensusErrorCode`, with the same
 * `CONSENSUS_` prefix; each says who is to blame (`fault`): the caller (a user's transaction or
 * request), a peer (a relayer's proof or header), or a transient state. Stable: never reuse a code.
 */
export const ShardErrorCode = {
  /** Shard parameters out of range (count, ids, chain ids, timeouts). */
  INVALID_PARAMS: 'CONSENSUS_SHARD_INVALID_PARAMS',
  /** A transaction or message sent to a shard that is not the sender's home shard: the error names the right one. */
  WRONG_SHARD: 'CONSENSUS_SHARD_WRONG_SHARD',
  /** A cross-shard message that does not decode or breaks a field's bound. */
  MALFORMED_MESSAGE: 'CONSENSUS_SHARD_MALFORMED_MESSAGE',
  /** A header the light client cannot take: not the next height, wrong parent, or a certificate that does not prove it. */
  INVALID_HEADER: 'CONSENSUS_SHARD_INVALID_HEADER',
  /** A proof against a height the light client has not verified (unfinalized, unknown, or pruned). */
  UNKNOWN_HEIGHT: 'CONSENSUS_SHARD_UNKNOWN_HEIGHT',
  /** A Merkle proof that does not prove the claimed value under the verified state root. */
  INVALID_PROOF: 'CONSENSUS_SHARD_INVALID_PROOF',
  /** A message delivered (or decided) already: replays are refused. */
  REPLAYED: 'CONSENSUS_SHARD_REPLAYED',
  /**
   * A relay of a message the destination decided already as expired or failed: nothing was credited
   * here and its value goes back to the sender on the source (settle), never to the receiver.
   */
  REFUNDED: 'CONSENSUS_SHARD_REFUNDED',
  /** A call to the bridge system contract that is not one of its functions, or whose arguments do not decode. */
  BAD_CALL: 'CONSENSUS_SHARD_BAD_CALL',
  /** A message ahead of the channel's next sequence: the ones before it go first. */
  OUT_OF_ORDER: 'CONSENSUS_SHARD_OUT_OF_ORDER',
  /** An acknowledgement or refund of a message the source has no commitment for (settled already, or never sent). */
  NOT_PENDING: 'CONSENSUS_SHARD_NOT_PENDING',
  /** A sender without the balance a cross-shard transfer debits. */
  INSUFFICIENT_FUNDS: 'CONSENSUS_SHARD_INSUFFICIENT_FUNDS',
} as const
export type ShardErrorCode = (typeof ShardErrorCode)[keyof typeof ShardErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensusShard: ShardErrorCode
  }
}
