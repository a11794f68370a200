/**
 * Error codes of proof of work (compact targets, ASERT, the seal). A domain of their own beside
 * `ConsensusErrorCode`, with the same `CONSENSUS_` prefix. Stable: never reuse a retired code.
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
} as const
export type PowErrorCode = (typeof PowErrorCode)[keyof typeof PowErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensusPow: PowErrorCode
  }
}
