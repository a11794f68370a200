/**
 * Governance (Cosmos's x/gov and x/upgrade, over the Governance system contract at
 * `GOVERNANCE_ADDRESS`): its parameters and the chain's, with their bounds, and how a change to them
 * is written; a proposal's actions; the header fields its chain parameters govern; the scheduled
 * upgrades a build knows. The engine reads the contract in staking's block hooks
 * (`StakingHooks.chainParams`, `upgradeBlocking`). Imports nothing heavier than viem: `cairn gov`
 * loads this entry (`@cairn/consensus/governance`) and nothing else of consensus.
 */
export type { ProposalAction, ProposalRequest, SystemContractRead } from './actions.ts'
export { proposalActions } from './actions.ts'
export { PROPOSAL_STATUS, VOTE_OPTION_NAMES, VOTE_OPTIONS } from './codes.ts'
export { governedHeader, MAX_BLOCK_TIME_MS, nextGasLimit } from './governed-header.ts'
export type { ChainParams, GovParams, ParamBound, ParamChange, ParamChangeProblem } from './params.ts'
export { applyParamChanges, CHAIN_PARAM_BOUNDS, GOV_PARAM_BOUNDS, parseParamChange } from './params.ts'
export type { UpgradeHandler, UpgradePlan } from './upgrades.ts'
export { KNOWN_UPGRADES, upgradeRequired } from './upgrades.ts'
