/**
 * Error codes of proof of work (compact targets, ASERT, the seal, the engine and its work API). A
 * domain of their own beside `ConsensusErrorCode`, with the same `CONSENSUS_` prefix. Stable: never
 * reuse a retired code.
 */
export const PowErrorCode = {
  /** Compact `bits` that do not encode a usable target (negative, overflowing 256 bits, zero, not a uint32). */
  INVALID_BITS: 'CONSENSUS_POW_INVALID_BITS',
  /** Difficulty or seal parameters out of range (spacing, half-life, pow limit, heights, memory). */
  INVALID_PARAMS: 'CONSENSUS_POW_INVALID_PARAMS',
  /** A header's seal is not the memory-hard hash of its seal hash and nonce (`mixHash` does not match). */
  INVALID_SEAL: 'CONSENSUS_POW_INVALID_SEAL',
  /** A header's seal is genuine but above the target: not enough work. */
  INSUFFICIENT_WORK: 'CONSENSUS_POW_INSUFFICIENT_WORK',
  /** A header's `difficulty` is not the work of the target the difficulty rule (ASERT) gives it. */
  WRONG_DIFFICULTY: 'CONSENSUS_POW_WRONG_DIFFICULTY',
  /** A header's timestamp is too far ahead of this node's clock (it may be valid later: not the sender's fault). */
  TIMESTAMP_FUTURE: 'CONSENSUS_POW_TIMESTAMP_FUTURE',
  /** `eth_submitWork` for work this node handed out on a head that is no longer the head. */
  STALE_WORK: 'CONSENSUS_POW_STALE_WORK',
  /** `eth_submitWork` for a seal hash this node never handed out (or forgot). */
  UNKNOWN_WORK: 'CONSENSUS_POW_UNKNOWN_WORK',
  /** Work was asked of a node that cannot make it (no coinbase, not attached to a chain). */
  NO_WORK: 'CONSENSUS_POW_NO_WORK',
  /** `cairn_acceptBranch` for a block this node does not have. */
  UNKNOWN_BRANCH: 'CONSENSUS_POW_UNKNOWN_BRANCH',
  /**
   * A proof-of-work block at or past the chain's transition height (`config.cairn.pow.transition`):
   * the chain moved to another engine there, and a miner that kept mining is refused (and penalised).
   */
  AFTER_TRANSITION: 'CONSENSUS_POW_AFTER_TRANSITION',
} as const
export type PowErrorCode = (typeof PowErrorCode)[keyof typeof PowErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensusPow: PowErrorCode
  }
}
