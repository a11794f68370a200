/** Error codes of the consensus domain (block production and its rules). Stable: never reuse a retired code. */
export const ConsensusErrorCode = {
  INVALID_DIFFICULTY: 'CONSENSUS_INVALID_DIFFICULTY',
  STORAGE_UNWRITABLE: 'CONSENSUS_STORAGE_UNWRITABLE',
  TIMESTAMP_TOO_HIGH: 'CONSENSUS_TIMESTAMP_TOO_HIGH',
  TIMESTAMP_TOO_LOW: 'CONSENSUS_TIMESTAMP_TOO_LOW',
  /** anvil_rollback deeper than the chain. */
  ROLLBACK_TOO_DEEP: 'CONSENSUS_ROLLBACK_TOO_DEEP',
  /** A rewind to a block number the canonical chain does not have. */
  UNKNOWN_BLOCK: 'CONSENSUS_UNKNOWN_BLOCK',
  /** A transaction a sender waits for (automine) was dropped instead of sealed. */
  TX_DROPPED: 'CONSENSUS_TX_DROPPED',
  /** The engine was asked to produce before `attach({ chain, pool })` (a wiring bug). */
  NOT_ATTACHED: 'CONSENSUS_NOT_ATTACHED',
} as const
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensus: ConsensusErrorCode
  }
}
