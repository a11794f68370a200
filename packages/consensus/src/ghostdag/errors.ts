/**
 * Error codes of GhostDAG and the reachability index. A domain of its own beside
 * `ConsensusErrorCode`, with the same `CONSENSUS_` prefix. Stable: never reuse a retired code.
 */
export const GhostdagErrorCode = {
  /** A DAG description that cannot be used: bad JSON, bad K, a duplicate id, a parent not yet known (or a cycle). */
  INVALID_DAG: 'CONSENSUS_GHOSTDAG_INVALID_DAG',
  /** A block whose parents are missing from the stores, or that is added twice. */
  UNKNOWN_BLOCK: 'CONSENSUS_GHOSTDAG_UNKNOWN_BLOCK',
  /** The stores contradict themselves (a bug, or a corrupt database): never the caller's input. */
  DATA_INCONSISTENCY: 'CONSENSUS_GHOSTDAG_DATA_INCONSISTENCY',
  /** A header whose parents are badly encoded, too many, or whose `parentHash` is not the selected parent. */
  INVALID_HEADER: 'CONSENSUS_GHOSTDAG_INVALID_HEADER',
  /** A chain change that would roll back below the chain blocks whose state is kept (the finality depth). */
  FINALITY_VIOLATION: 'CONSENSUS_GHOSTDAG_FINALITY_VIOLATION',
} as const
export type GhostdagErrorCode = (typeof GhostdagErrorCode)[keyof typeof GhostdagErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensusGhostdag: GhostdagErrorCode
  }
}
