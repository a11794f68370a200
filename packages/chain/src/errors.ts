/** Stable error codes of the chain domain. Never reuse a retired code. */
export const ChainErrorCode = {
  GENESIS_INVALID: 'CHAIN_GENESIS_INVALID',
  GENESIS_MISMATCH: 'CHAIN_GENESIS_MISMATCH',
  PARENT_UNKNOWN: 'CHAIN_PARENT_UNKNOWN',
  BLOCK_INVALID: 'CHAIN_BLOCK_INVALID',
  BLOCK_KNOWN: 'CHAIN_BLOCK_KNOWN',
  EXECUTION_MISMATCH: 'CHAIN_EXECUTION_MISMATCH',
  STATE_MISSING: 'CHAIN_STATE_MISSING',
  BLOCK_NOT_FOUND: 'CHAIN_BLOCK_NOT_FOUND',
  CORRUPT: 'CHAIN_CORRUPT',
  SHARED_COMMON_SWITCHED: 'CHAIN_SHARED_COMMON_SWITCHED',
  /** A block whose branch leaves the canonical chain below the finalized block. */
  WOULD_REVERT_FINALIZED: 'CHAIN_WOULD_REVERT_FINALIZED',
  /** A finality or safe update the chain cannot take (unknown block, off the canonical chain, backwards). */
  FINALITY_INVALID: 'CHAIN_FINALITY_INVALID',
  /** A block number past 2^64-1 reached the store (the RPC's edge refuses them): refused, never truncated. */
  NUMBER_OUT_OF_RANGE: 'CHAIN_NUMBER_OUT_OF_RANGE',
  /**
   * A block whose RLP encoding is over EIP-7934's limit (from Osaka on); execution-spec-tests'
   * `BlockException.RLP_BLOCK_LIMIT_EXCEEDED` (named in the message and `meta.exception`).
   */
  BLOCK_RLP_LIMIT_EXCEEDED: 'CHAIN_BLOCK_RLP_LIMIT_EXCEEDED',
  /** Fork mode: the remote node failed, refused or answered inconsistently (`src/fork/`). */
  FORK_REMOTE: 'CHAIN_FORK_REMOTE',
  /** This package misused by a caller's code (not a chain opened by `Chain.open`, a reserved key). */
  MISUSE: 'CHAIN_MISUSE',
} as const
export type ChainErrorCode = (typeof ChainErrorCode)[keyof typeof ChainErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    chain: ChainErrorCode
  }
  interface CairnErrorMetas {
    CHAIN_BLOCK_RLP_LIMIT_EXCEEDED: {
      size: number
      limit: number
      exception: 'BlockException.RLP_BLOCK_LIMIT_EXCEEDED'
    }
  }
}
