/**
 * Staking (Cosmos's x/staking, x/slashing and x/distribution over the Staking system contract at
 * `STAKING_ADDRESS`), one module: its parameters and their bounds (params.ts), the genesis that
 * places and initializes the system contracts (genesis.ts), the block hooks the engine runs at each
 * block's end (hooks.ts, through system calls: system-call.ts), the consensus-key rotation proof
 * (key-rotation.ts), its metrics (metrics.ts), the contract's enumerations (codes.ts) and the
 * invariants a test asserts over any run (invariants.ts). The contract's ABI is generated from its
 * compiled artifact (`stakingAbi` in `@cairn/contracts`). Governance is ../governance.
 */
export type { StakingSignatureScheme } from './codes.ts'
export { PENALTY_REASONS, SIGNATURE_SCHEME_CODES, signatureSchemeCode } from './codes.ts'
export type { StakingGenesisInput } from './devnet-genesis.ts'
export { addStakingGenesis } from './devnet-genesis.ts'
export type { AllocEntry, GenesisValidator, StakingGenesisOptions } from './genesis.ts'
export { genesisStakingSet, stakingGenesisAlloc } from './genesis.ts'
export type {
  StakingBlockFacts,
  StakingBlockResult,
  StakingEvidence,
  StakingHooksModules,
  StakingHooksOptions,
} from './hooks.ts'
export { StakingHooks } from './hooks.ts'
export type { SetMismatch, StakingAccounting, ValidatorSetMember } from './invariants.ts'
export {
  accountingImbalance,
  accountingOf,
  epochPowerAllowed,
  epochPowerMoved,
  setFollowsContract,
  validatorSetKey,
} from './invariants.ts'
export type { PqNextKey } from './key-rotation.ts'
export { pqRotationArgs, ROTATION_DOMAIN, rotationDigest, rotationProof } from './key-rotation.ts'
export type { StakingMetrics } from './metrics.ts'
export { createStakingMetrics } from './metrics.ts'
export type { ChainParams, GovParams, StakingParams, StakingProfile } from './params.ts'
export { STAKING_PARAM_BOUNDS, STAKING_PROFILES, stakingParamsWith } from './params.ts'
export type { SystemBlock, SystemCallResult } from './system-call.ts'
export { SYSTEM_CALL_GAS, SYSTEM_CALLER, systemCall } from './system-call.ts'
