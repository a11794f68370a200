/**
 * Why the pool refuses a transaction. Codes are stable; messages are geth's, so clients that match
 * on them (ethers, viem, scripts) behave the same against Cairn.
 */
export const TxPoolErrorCode = {
  ALREADY_KNOWN: 'TXPOOL_ALREADY_KNOWN',
  NONCE_TOO_LOW: 'TXPOOL_NONCE_TOO_LOW',
  INSUFFICIENT_FUNDS: 'TXPOOL_INSUFFICIENT_FUNDS',
  INTRINSIC_GAS: 'TXPOOL_INTRINSIC_GAS',
  GAS_LIMIT: 'TXPOOL_GAS_LIMIT',
  TIP_ABOVE_FEE_CAP: 'TXPOOL_TIP_ABOVE_FEE_CAP',
  UNDERPRICED: 'TXPOOL_UNDERPRICED',
  REPLACEMENT_UNDERPRICED: 'TXPOOL_REPLACEMENT_UNDERPRICED',
  INVALID_SENDER: 'TXPOOL_INVALID_SENDER',
  OVERSIZED: 'TXPOOL_OVERSIZED',
  TYPE_NOT_SUPPORTED: 'TXPOOL_TYPE_NOT_SUPPORTED',
  FULL: 'TXPOOL_FULL',
  ACCOUNT_LIMIT: 'TXPOOL_ACCOUNT_LIMIT',
  NONCE_MAX: 'TXPOOL_NONCE_MAX',
  /** The journal of local transactions cannot be written (disk full): the transaction is not kept. */
  JOURNAL_UNWRITABLE: 'TXPOOL_JOURNAL_UNWRITABLE',
  /** The journal of local transactions exists but cannot be read. */
  JOURNAL_UNREADABLE: 'TXPOOL_JOURNAL_UNREADABLE',
  /** A blob transaction without its blobs (the canonical form, as inside a block). */
  BLOB_SIDECAR_MISSING: 'TXPOOL_BLOB_SIDECAR_MISSING',
  /** The sidecar's version is not the one the chain's fork takes (cell proofs from Osaka on). */
  BLOB_SIDECAR_VERSION: 'TXPOOL_BLOB_SIDECAR_VERSION',
  /** Blob, commitment or proof counts or sizes wrong, or a versioned hash not its commitment's. */
  BLOB_SIDECAR_INVALID: 'TXPOOL_BLOB_SIDECAR_INVALID',
  /** The KZG proofs do not verify. */
  BLOB_PROOF_INVALID: 'TXPOOL_BLOB_PROOF_INVALID',
  /** More blobs than a transaction (or a block of this fork) may carry. */
  BLOB_LIMIT: 'TXPOOL_BLOB_LIMIT',
} as const
export type TxPoolErrorCode = (typeof TxPoolErrorCode)[keyof typeof TxPoolErrorCode]

export const TX_POOL_MESSAGES: Record<TxPoolErrorCode, string> = {
  TXPOOL_ALREADY_KNOWN: 'already known',
  TXPOOL_NONCE_TOO_LOW: 'nonce too low',
  TXPOOL_INSUFFICIENT_FUNDS: 'insufficient funds for gas * price + value',
  TXPOOL_INTRINSIC_GAS: 'intrinsic gas too low',
  TXPOOL_GAS_LIMIT: 'exceeds block gas limit',
  TXPOOL_TIP_ABOVE_FEE_CAP: 'max priority fee per gas higher than max fee per gas',
  TXPOOL_UNDERPRICED: 'transaction underpriced',
  TXPOOL_REPLACEMENT_UNDERPRICED: 'replacement transaction underpriced',
  TXPOOL_INVALID_SENDER: 'invalid sender',
  TXPOOL_OVERSIZED: 'oversized data',
  TXPOOL_TYPE_NOT_SUPPORTED: 'transaction type not supported',
  TXPOOL_FULL: 'txpool is full',
  TXPOOL_ACCOUNT_LIMIT: 'account limit exceeded',
  TXPOOL_NONCE_MAX: 'nonce has max value',
  TXPOOL_JOURNAL_UNWRITABLE: 'txpool journal cannot be written',
  TXPOOL_JOURNAL_UNREADABLE: 'txpool journal cannot be read',
  TXPOOL_BLOB_SIDECAR_MISSING: 'missing sidecar in blob transaction',
  TXPOOL_BLOB_SIDECAR_VERSION: 'unexpected blob sidecar version',
  TXPOOL_BLOB_SIDECAR_INVALID: 'invalid blob sidecar',
  TXPOOL_BLOB_PROOF_INVALID: 'invalid blob proof',
  TXPOOL_BLOB_LIMIT: 'too many blobs in transaction',
}

/** How each refusal can be fixed (the `hint` of the CairnError). */
export const TX_POOL_HINTS: Partial<Record<TxPoolErrorCode, string>> = {
  TXPOOL_NONCE_TOO_LOW: 'use the account nonce (eth_getTransactionCount with "pending")',
  TXPOOL_INSUFFICIENT_FUNDS:
    "the balance must cover gas × maxFeePerGas + value of this and the sender's other pooled transactions",
  TXPOOL_INTRINSIC_GAS: 'raise the gas limit (eth_estimateGas)',
  TXPOOL_GAS_LIMIT: "lower the gas limit below the block's",
  TXPOOL_UNDERPRICED: 'raise maxPriorityFeePerGas (or gasPrice) to at least the pool minimum tip',
  TXPOOL_REPLACEMENT_UNDERPRICED: 'raise both maxFeePerGas and maxPriorityFeePerGas by at least the price bump (10%)',
  TXPOOL_FULL: 'pay a higher tip than the cheapest pooled transaction, or wait for blocks to drain the pool',
  TXPOOL_ACCOUNT_LIMIT: 'fill the nonce gap first: this account has too many transactions waiting behind one',
  TXPOOL_BLOB_SIDECAR_MISSING: 'send the network form (blobs, commitments and proofs) to eth_sendRawTransaction',
  TXPOOL_BLOB_SIDECAR_VERSION:
    'from Osaka on send cell proofs (wrapper version 1, 128 proofs per blob); before it one proof per blob',
  TXPOOL_BLOB_LIMIT: 'split the blobs over several transactions',
}

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    txpool: TxPoolErrorCode
  }
}
