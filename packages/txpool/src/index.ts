export type { Admission, AdmissionOptions, Drainer } from './admission.ts'
export type { BlobNetworkTx, BlobSidecar } from './blob-sidecar.ts'
export {
  decodeBlobNetworkTx,
  encodeBlobNetworkTx,
  sidecarVersionFor,
  toCellProofSidecar,
  verifySidecar,
  versionedHash,
} from './blob-sidecar.ts'
export { TX_POOL_HINTS, TX_POOL_MESSAGES, TxPoolErrorCode } from './errors.ts'
export { EvictHeap } from './evict-heap.ts'
export type { ChainFollower, HeadFollower } from './follow-chain.ts'
export { followChain } from './follow-chain.ts'
export type { JournalLoadResult, TxJournalOptions } from './journal.ts'
export { TxJournal } from './journal.ts'
export type { TxPoolMetrics } from './metrics.ts'
export { createTxPoolMetrics } from './metrics.ts'
export { TxPool } from './pool.ts'
export type {
  AccountReader,
  AddOptions,
  TxPoolEvents,
  TxPoolModules,
  TxPoolOptions,
} from './pool-options.ts'
export { DEFAULT_TXPOOL_OPTIONS } from './pool-options.ts'
export type { PoolTx } from './pool-tx.ts'
export { blobFieldsOf, comparePrice, feesOf, SLOT_SIZE, slotsOf, tipAt } from './pool-tx.ts'
export type { PoolContent, PoolInspect } from './pool-views.ts'
export type { BlobBlockLimits } from './price-heap.ts'
export { coversBaseFee, effectiveTip, PriceAndNonceSource } from './price-heap.ts'
export type { RefusalClass } from './refusal.ts'
export { classifyRefusal, REFUSAL_CLASS } from './refusal.ts'
