/**
 * Proof of work's engine-independent parts (`@cairn/consensus/pow`): compact targets, ASERT
 * difficulty, the memory-hard seal, work and heaviest-work fork choice. The PoW and GhostDAG
 * engines build on these; none of them reads a chain, a clock or a pool.
 */

export type { ScheduledEngineModules, ScheduledEngineOptions } from '../transition/scheduled-engine.ts'
export { ScheduledEngine, terminalRule } from '../transition/scheduled-engine.ts'
export type { AsertAnchor, AsertParams, AsertTip } from './asert.ts'
export { ASERT_MAX_SCHEDULE_OFFSET, ASERT_SPEC_PARAMS, asertTarget, nextAsertBits, nextAsertTarget } from './asert.ts'
export type { DecodedBits } from './compact-bits.ts'
export {
  bitsFromTarget,
  decodeBits,
  formatBits,
  parseBits,
  roundTarget,
  TWO_256,
  targetFromBits,
} from './compact-bits.ts'
export { PowErrorCode } from './errors.ts'
export type { ForkChoice, WorkHeader, WorkTip } from './fork-choice.ts'
export { heaviestHead, prefersHead, workHeader } from './fork-choice.ts'
export type { PowGenesisOptions } from './genesis.ts'
export { powGenesis } from './genesis.ts'
export type { MineJob, MinerPoolModules, WorkerReport } from './miner-pool.ts'
export { MinerPool } from './miner-pool.ts'
export type { PowChainParams, PowTransition } from './params.ts'
export {
  DEFAULT_BLOCK_REWARD,
  DEFAULT_POW_CONFIG,
  genesisAnchor,
  parsePowConfig,
  powConfigJson,
  powConfigSchema,
} from './params.ts'
export type { PowEngineModules, PowEngineOptions, WorkPackage } from './pow-engine.ts'
export { DEFAULT_RECOMMIT_MS, PowEngine } from './pow-engine.ts'
export type { PowMetrics } from './pow-metrics.ts'
export { createPowMetrics, REORG_DEPTH_BUCKETS, reorgDepthBucket } from './pow-metrics.ts'
export type { PowRulesModules, PowRulesOptions } from './pow-rules.ts'
export { DEFAULT_MAX_FUTURE_SECONDS, DEFAULT_MAX_REORG_DEPTH, PowRules } from './pow-rules.ts'
export type { Seal, SealParams } from './seal.ts'
export {
  checkDifficulty,
  checkSealParams,
  DEFAULT_SEAL_PARAMS,
  nonceBytes,
  proofValue,
  SEAL_PARAM_BOUNDS,
  SEAL_SALT,
  sealHash,
  sealProof,
  trySeal,
  trySealHash,
  verifySeal,
  withSeal,
} from './seal.ts'
export { sealParamsOfSeedHash, sealSeedHash } from './seed-hash.ts'
export type { SidePrunerModules } from './side-pruner.ts'
export { SidePruner } from './side-pruner.ts'
export { TotalWork } from './total-work.ts'
export { workOf } from './work.ts'
export type { WorkApi } from './work-api.ts'
