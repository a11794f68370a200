// @cairn/arbitrage: a DEX arbitrage engine over any EVM JSON-RPC (see README.md).
export type { ArbEngineModules, ArbEngineOptions, Decision, RiskLimits, StepResult } from './engine.ts'
export { ArbEngine } from './engine.ts'
export { ArbErrorCode } from './errors.ts'
export type {
  Execution,
  ExecutorClientModules,
  ExecutorClientOptions,
  ExecutorHop,
  Funding,
  Simulation,
  Submission,
} from './execution/executor.ts'
export { arbExecutorAbi, ExecutorClient, executeArgs, gasLimitFor, V2_PAIR_GAS_SLACK } from './execution/executor.ts'
export type { RevertEvidence } from './execution/revert-evidence.ts'
export { revertEvidence } from './execution/revert-evidence.ts'
export type { Address, Cycle, PoolInfo, TokenGraphOptions } from './graph/token-graph.ts'
export { TokenGraph } from './graph/token-graph.ts'
export type { Hop, Sizing, VirtualPool } from './math/path.ts'
export { foldPath, isProfitable, optimalInput, simulatePath, sizeCycle, virtualAmountOut } from './math/path.ts'
export type { PoolFee } from './math/v2.ts'
export { feeFromBps, getAmountIn, getAmountOut, isqrt, UNISWAP_V2_FEE } from './math/v2.ts'
export type { ArbMetrics } from './metrics.ts'
export { createArbMetrics } from './metrics.ts'
export { pairAbi, pairCreatedEvent, syncEvent } from './pools/abi.ts'
export type { BlockUpdate, FactoryConfig, PoolTrackerModules, PoolTrackerOptions } from './pools/tracker.ts'
export { PoolTracker } from './pools/tracker.ts'
export { apiRateLimitedCounter } from './service/rate-limit.ts'
export type { Plan, PlanOptions } from './strategy/batch-plan.ts'
export { planBatch } from './strategy/batch-plan.ts'
export type { GasModel, Opportunity, SearchOptions } from './strategy/search.ts'
export { defaultGasUnits, evaluateCycle, findOpportunities, selectDisjoint } from './strategy/search.ts'
export { TransferFees } from './strategy/transfer-fees.ts'
