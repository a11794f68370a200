/**
 * GhostDAG and the reachability index (`@cairn/consensus/ghostdag`), as Kaspa lays them out
 * (`consensus/src/processes/ghostdag`, `reachability`): pure modules over store interfaces the
 * GhostDAG engine backs with its database; in-memory stores for tests, the CLI and the bench.
 */
export type { Account, AccountState, Transfer } from './account-rules.ts'
export { accountRules } from './account-rules.ts'
export type { BlockDagModules, BlockDagOptions } from './dag.ts'
export { BlockDag } from './dag.ts'
export {
  checkSelectedParent,
  DAG_EXTRA_DATA_VERSION,
  dagParentsOfHeader,
  decodeDagExtraData,
  encodeDagExtraData,
} from './dag-header.ts'
export type { BlockDagData, DagInfo, DagViewModules } from './dag-view.ts'
export { DagView } from './dag-view.ts'
export type { DagDifficultyModules, DagDifficultyOptions } from './difficulty.ts'
export { DagDifficulty } from './difficulty.ts'
export type { Carried, DerivationHeader } from './engine/accepted-txs.ts'
export { deriveAccepted } from './engine/accepted-txs.ts'
export type { DagApi, GhostdagEngineOptions } from './engine/ghostdag-engine.ts'
export { GhostdagEngine } from './engine/ghostdag-engine.ts'
export type { GhostdagRulesModules, GhostdagRulesOptions } from './engine/ghostdag-rules.ts'
export { DEFAULT_MAX_FUTURE_MS, GhostdagRules } from './engine/ghostdag-rules.ts'
export type { DagHeaderExtra } from './engine/header-extra.ts'
export { DAG_HEADER_VERSION, decodeDagHeaderExtra, encodeDagHeaderExtra, headerTimeMs } from './engine/header-extra.ts'
export type { GhostdagChainParams } from './engine/params.ts'
export { ghostdagConfigJson, ghostdagConfigSchema, isGhostdagGenesis, parseGhostdagConfig } from './engine/params.ts'
export { GhostdagErrorCode } from './errors.ts'
export type { EvmRulesModules } from './evm-rules.ts'
export { evmRules } from './evm-rules.ts'
export type {
  AcceptedTx,
  ApplyContext,
  ChainBlockAcceptance,
  ChainUpdate,
  DagExecutorModules,
  DagExecutorOptions,
  SkipReason,
  TxOutcome,
  TxRules,
} from './execution.ts'
export { DagExecutor } from './execution.ts'
export type { GhostdagMetrics } from './ghostdag-metrics.ts'
export { CHAIN_CHANGE_DEPTH_BUCKETS, chainChangeDepthBucket, createGhostdagMetrics } from './ghostdag-metrics.ts'
export type { BlockHash } from './hash.ts'
export { compareHashes, hashFromBytes, hashFromTestId } from './hash.ts'
export { unorderedMergeset } from './mergeset.ts'
export type { SortableBlock } from './ordering.ts'
export { compareSortable, sortBlocks } from './ordering.ts'
export type { KBoundParams } from './params.ts'
export { ghostdagDelta, ghostdagK, KASPA_K_BOUND, kaspaLimits } from './params.ts'
export type { GhostdagModules, GhostdagOptions } from './protocol.ts'
export { GhostdagManager } from './protocol.ts'
export type { Interval } from './reachability/interval.ts'
export type { ReachabilityIndexOptions, ReachabilityService } from './reachability/reachability.ts'
export { ReachabilityIndex } from './reachability/reachability.ts'
export type { ReachabilityStore, ReachabilityStoreReader } from './reachability/store.ts'
export { MemoryReachabilityStore } from './reachability/store.ts'
export type { ReindexParams } from './reachability/tree.ts'
export { DEFAULT_REINDEX_PARAMS } from './reachability/tree.ts'
export type {
  GhostdagData,
  GhostdagStore,
  GhostdagStoreReader,
  RelationsReader,
  RelationsStore,
  WorkStore,
} from './store.ts'
export { GENESIS_PARENT, MemoryDagStore } from './store.ts'
export type { TestDag, TestDagBlockResult } from './test-dag.ts'
export { checkK, parseTestDag, runTestDag, TEST_DAG_BLOCK_WORK } from './test-dag.ts'
export type { ChainChange } from './virtual-chain.ts'
export { chainChange, consensusOrderedMergeset, selectedChain } from './virtual-chain.ts'
