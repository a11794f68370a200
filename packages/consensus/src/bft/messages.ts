/**
 * The BFT messages: a proposal and the two kinds of vote, unsigned and signed.
 *
 * Heights and rounds are plain numbers (safe integers); hashes and addresses are plain bytes, so
 * the core does not depend on the chain's types. A block is opaque bytes to the core: the driver
 * (the node, the simulator) builds, hashes and validates it.
 */

/** The vote and message types, numbered as CometBFT's `SignedMsgType`. */
export const MsgType = {
  PREVOTE: 1,
  PRECOMMIT: 2,
  PROPOSAL: 32,
} as const
export type VoteType = typeof MsgType.PREVOTE | typeof MsgType.PRECOMMIT

/** A 32-byte block hash. */
export type BlockHash = Uint8Array
/** A 20-byte Ethereum address (a validator's identity). */
export type Address = Uint8Array

/** A prevote or a precommit; `blockHash` null is a vote for nil. */
export interface Vote {
  type: VoteType
  height: number
  round: number
  blockHash: BlockHash | null
}

/**
 * A vote with its signature: 65 bytes `r ‖ s ‖ v` (v = 27 + recovery id) under secp256k1, the
 * scheme's bytes under a post-quantum scheme (`pq/scheme.ts`).
 */
export interface SignedVote extends Vote {
  signature: Uint8Array
  /**
   * The validator that claims the signature, under `ml-dsa-65` only (an ML-DSA signature recovers no
   * signer): the verifier checks the signature against that validator's key in the set of the
   * vote's height. Absent under secp256k1 and hybrid (the signer is recovered); not signed.
   */
  validator?: Address
}

/**
 * A proposal of a block for (height, round). `polRound` is the round of the proof-of-lock the
 * proposer re-proposes (its valid round), or -1 for a fresh block. The block travels with the
 * proposal (`block`, opaque bytes), so one message carries both.
 */
export interface Proposal {
  height: number
  round: number
  polRound: number
  blockHash: BlockHash
  block: Uint8Array
}

/** A proposal with the proposer's signature over its digest (the block bytes are not signed: the hash is). */
export interface SignedProposal extends Proposal {
  signature: Uint8Array
  /** The proposer that claims the signature, under `ml-dsa-65` only (as {@link SignedVote.validator}). */
  validator?: Address
}

/** Steps of a round, ordered; `NEW_HEIGHT` is the wait between a commit and round 0 of the next height. */
export const Step = {
  NEW_HEIGHT: 0,
  PROPOSE: 1,
  PREVOTE: 2,
  PRECOMMIT: 3,
} as const
export type Step = (typeof Step)[keyof typeof Step]

/** The step a signature belongs to, for the signer state (propose < prevote < precommit). */
export function signStepOf(type: VoteType | typeof MsgType.PROPOSAL): 1 | 2 | 3 {
  if (type === MsgType.PROPOSAL) return 1
  return type === MsgType.PREVOTE ? 2 : 3
}

const keys = new WeakMap<Uint8Array, string>()

/**
 * Lowercase hex of a hash, or `nil`: the key vote tallies and maps use. Memoized per array (the same
 * hash object is met many times: every vote for a block shares it); treat hashes as immutable.
 */
export function hashKey(hash: Uint8Array | null): string {
  if (hash === null) return 'nil'
  let key = keys.get(hash)
  if (key === undefined) {
    key = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')
    keys.set(hash, key)
  }
  return key
}
