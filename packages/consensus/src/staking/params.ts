/**
 * The staking contract's parameters (`Staking.params()`) and their bounds, and the genesis profiles
 * of the system contracts' parameters: `devnet` (minutes: a validator is jailed within a minute of
 * going down, a proposal passes in about a minute) and `production` (Cosmos Hub-like days).
 * Governance changes them on a running chain; the profile only sets the genesis values.
 * docs/consensus/staking.md explains each. Governance's and the chain's parameters, and how a
 * change is written and applied, are governance/params.ts.
 */
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import {
  applyParamChanges,
  type ChainParams,
  type GovParams,
  type ParamBound,
  parseParamChange,
} from '../governance/params.ts'

export type { ChainParams, GovParams }

export interface StakingParams {
  epochLength: bigint
  maxValidators: number
  minSelfBond: bigint
  powerReduction: bigint
  unbondingBlocks: bigint
  issuancePerBlock: bigint
  annualRateBps: number
  blocksPerYear: bigint
  communityTaxBps: number
  signedBlocksWindow: bigint
  minSignedPerWindowBps: number
  slashFractionDoubleSignBps: number
  slashFractionDowntimeBps: number
  downtimeJailSeconds: bigint
  maxPowerChangeBps: number
}

const MAX_PERIOD_BLOCKS = 1n << 32n
const MAX_UINT64 = (1n << 64n) - 1n
const MAX_UINT256 = (1n << 256n) - 1n
const BPS = { bits: 16, min: 0n, max: 10_000n } as const

/**
 * `Staking.params()`'s fields: their width and the range `Staking.checkParams` accepts (one rule
 * joins two fields: a non-zero `annualRateBps` needs `blocksPerYear` ≥ 1). docs/consensus/staking.md
 * "Parameter bounds" says why each bound is where it is.
 */
export const STAKING_PARAM_BOUNDS: Readonly<Record<keyof StakingParams, ParamBound>> = {
  epochLength: { bits: 64, min: 1n, max: MAX_PERIOD_BLOCKS },
  maxValidators: { bits: 32, min: 1n, max: 200n },
  minSelfBond: { bits: 256, min: 0n, max: MAX_UINT256 },
  powerReduction: { bits: 256, min: 1n, max: MAX_UINT256 },
  unbondingBlocks: { bits: 64, min: 0n, max: MAX_PERIOD_BLOCKS },
  issuancePerBlock: { bits: 256, min: 0n, max: 10n ** 30n },
  annualRateBps: BPS,
  blocksPerYear: { bits: 64, min: 0n, max: MAX_UINT64 },
  communityTaxBps: BPS,
  signedBlocksWindow: { bits: 64, min: 1n, max: MAX_PERIOD_BLOCKS },
  minSignedPerWindowBps: BPS,
  slashFractionDoubleSignBps: BPS,
  slashFractionDowntimeBps: BPS,
  downtimeJailSeconds: { bits: 64, min: 0n, max: 31_536_000n },
  maxPowerChangeBps: { bits: 16, min: 1n, max: 3332n },
}

export type StakingProfile = 'devnet' | 'production'

const ETHER = 10n ** 18n

export const STAKING_PROFILES: Record<StakingProfile, { staking: StakingParams; governance: GovParams }> = {
  devnet: {
    staking: {
      epochLength: 10n,
      maxValidators: 100,
      minSelfBond: ETHER,
      powerReduction: ETHER,
      unbondingBlocks: 120n,
      issuancePerBlock: ETHER / 10n,
      annualRateBps: 0,
      blocksPerYear: 31_536_000n,
      communityTaxBps: 200,
      // Jailed after missing 95 of the last 100 commits: a validator down for about two minutes.
      signedBlocksWindow: 100n,
      minSignedPerWindowBps: 500,
      slashFractionDoubleSignBps: 500,
      slashFractionDowntimeBps: 100,
      downtimeJailSeconds: 60n,
      maxPowerChangeBps: 3000,
    },
    governance: {
      minDeposit: 10n * ETHER,
      // A minute of one-second blocks: long enough for every validator of a devnet on a loaded
      // machine to vote through the CLI (a transaction command there takes seconds each; 15 blocks
      // closed votes before the last validators got theirs in).
      votingPeriodBlocks: 60n,
      timelockBlocks: 5n,
      quorumBps: 3340,
      thresholdBps: 5000,
      vetoBps: 3340,
    },
  },
  production: {
    staking: {
      epochLength: 100n,
      maxValidators: 100,
      minSelfBond: ETHER,
      powerReduction: ETHER,
      // 21 days of one-second blocks, as the Cosmos Hub's 21-day unbonding.
      unbondingBlocks: 1_814_400n,
      issuancePerBlock: 0n,
      annualRateBps: 700,
      blocksPerYear: 31_536_000n,
      communityTaxBps: 200,
      signedBlocksWindow: 10_000n,
      minSignedPerWindowBps: 500,
      slashFractionDoubleSignBps: 500,
      slashFractionDowntimeBps: 1,
      downtimeJailSeconds: 600n,
      maxPowerChangeBps: 3000,
    },
    governance: {
      minDeposit: 1000n * ETHER,
      // 2 days of voting and 1 day of timelock at one-second blocks.
      votingPeriodBlocks: 172_800n,
      timelockBlocks: 86_400n,
      quorumBps: 3340,
      thresholdBps: 5000,
      vetoBps: 3340,
    },
  },
}

/** The params as the ABI tuple viem encodes. */
export function stakingParamsArg(p: StakingParams): StakingParams {
  return { ...p }
}

/**
 * `profile` with `overrides` applied: `staking.<name>=<value>` or `governance.<name>=<value>`
 * (`cairn devnet init --param staking.signedBlocksWindow=20`). Throws on an unknown name or a value
 * that is not a non-negative integer.
 */
export function stakingParamsWith(
  profile: StakingProfile,
  overrides: readonly string[],
): { staking: StakingParams; governance: GovParams } {
  const base = STAKING_PROFILES[profile]
  const out = { staking: { ...base.staking }, governance: { ...base.governance } }
  for (const o of overrides) {
    const change = parseParamChange(o)
    if (change === null || !/^[0-9]+$/.test(change.value)) {
      throw new CairnError(
        ConsensusErrorCode.STAKING_INVALID_GENESIS,
        `--param ${o}: expected a group, a name and an integer`,
        {
          fault: 'caller',
          hint: 'write staking.<name>=<integer> or governance.<name>=<integer>, e.g. staking.epochLength=10',
        },
      )
    }
    const { group, name, value } = change
    const refuse = () =>
      new CairnError(ConsensusErrorCode.STAKING_INVALID_GENESIS, `--param ${o}: ${group} has no parameter ${name}`, {
        fault: 'caller',
        hint: `${group} has ${Object.keys(out[group]).join(', ')}`,
      })
    if (group === 'staking') out.staking = applyParamChanges(out.staking, [[name, value]], refuse)
    else out.governance = applyParamChanges(out.governance, [[name, value]], refuse)
  }
  return out
}
