/**
 * The functions of the staking and governance system contracts the engine calls, as viem ABI
 * fragments: the engine depends on these signatures only (the contracts' full ABI, events and
 * errors are `@cairn/contracts`' artifacts; `test/staking/abi.test.ts` checks they agree).
 */
import { parseAbi } from 'viem'

export const STAKING_PARAMS_TUPLE =
  '(uint64 epochLength, uint32 maxValidators, uint256 minSelfBond, uint256 powerReduction, uint64 unbondingBlocks, uint256 issuancePerBlock, uint16 annualRateBps, uint64 blocksPerYear, uint16 communityTaxBps, uint64 signedBlocksWindow, uint16 minSignedPerWindowBps, uint16 slashFractionDoubleSignBps, uint16 slashFractionDowntimeBps, uint64 downtimeJailSeconds, uint16 maxPowerChangeBps)'

export const GOV_PARAMS_TUPLE =
  '(uint256 minDeposit, uint64 votingPeriodBlocks, uint64 timelockBlocks, uint16 quorumBps, uint16 thresholdBps, uint16 vetoBps)'

export const CHAIN_PARAMS_TUPLE = '(uint64 blockGasLimit, uint256 minBaseFee, uint64 blockTimeMs)'

export const STAKING_SYSTEM_ABI = parseAbi([
  `function initialize(${STAKING_PARAMS_TUPLE} p, address governance, address[] operators, address[] consensusAddrs, uint256[] selfBonds, uint16[] commissionBps) payable`,
  'function initializePq(uint8 scheme, address[] consensusAddrs, bytes[] pqKeys)',
  'function pqPublicKeys(address[] consensusAddrs) view returns (bytes[] keys)',
  'function signatureScheme() view returns (uint8)',
  'function issuance() view returns (uint256)',
  'function reward(address[] signed, address[] missed) payable',
  'function slashDoubleSign(address consensusAddr, uint64 height, uint32 round, uint8 voteType) returns (bool)',
  'function epochUpdate() returns (address[] consensusAddrs, uint256[] powers)',
  'function activeSet() view returns (address[] consensusAddrs, uint256[] powers)',
  'function pendingSetChange() view returns (bool)',
  `function params() view returns (${STAKING_PARAMS_TUPLE})`,
  'function totalBonded() view returns (uint256)',
  'function communityPool() view returns (uint256)',
])

export const GOVERNANCE_SYSTEM_ABI = parseAbi([
  `function initialize(${GOV_PARAMS_TUPLE} g, ${CHAIN_PARAMS_TUPLE} c, address staking)`,
  `function chainParams() view returns (${CHAIN_PARAMS_TUPLE})`,
  'function upgradePlan() view returns (string name, uint64 height)',
  'function proposalCount() view returns (uint256)',
])
