export type { AllocEntry, GenesisValidator, StakingGenesisOptions } from './genesis-staking.ts'
export { genesisStakingSet, stakingGenesisAlloc } from './genesis-staking.ts'
export type { PqNextKey } from './key-rotation.ts'
export { pqRotationArgs, ROTATION_DOMAIN, rotationDigest, rotationProof } from './key-rotation.ts'
export {
  CHAIN_PARAMS_TUPLE,
  GOV_PARAMS_TUPLE,
  GOVERNANCE_SYSTEM_ABI,
  STAKING_PARAMS_TUPLE,
  STAKING_SYSTEM_ABI,
} from './staking-abi.ts'
export type {
  StakingBlockFacts,
  StakingBlockResult,
  StakingEvidence,
  StakingHooksModules,
  StakingHooksOptions,
} from './staking-hooks.ts'
export { StakingHooks } from './staking-hooks.ts'
export type { StakingMetrics } from './staking-metrics.ts'
export { createStakingMetrics } from './staking-metrics.ts'
export type { ChainParams, GovParams, StakingParams, StakingProfile } from './staking-params.ts'
export { STAKING_PROFILES, stakingParamsWith } from './staking-params.ts'
export type { SystemBlock, SystemCallResult } from './system-call.ts'
export { SYSTEM_CALL_GAS, SYSTEM_CALLER, systemCall } from './system-call.ts'
export type { UpgradeHandler, UpgradePlan } from './upgrades.ts'
export { KNOWN_UPGRADES, upgradeRequired } from './upgrades.ts'
