/**
 * The parameters the governance contract holds (`Governance.govParams()`, `chainParams()`), their
 * bounds, and the one way a change to any system contract's parameters is written and applied —
 * `group.name=value` over the current values — which the genesis profiles (`--param` of `cairn
 * devnet init`) and governance proposals (`--param` of `cairn gov propose`) share.
 *
 * The bounds are the contracts' (`Governance._checkGovParams`, `_checkChainParams`; Staking's in
 * staking/params.ts): a value outside them is refused with `InvalidParams(reason)`, at a proposal's
 * submission and at genesis. docs/consensus/governance.md says why each bound is where it is, and
 * test/staking/param-bounds.test.ts proposes every value at and past each bound to check that the
 * contracts refuse exactly these.
 */

export interface GovParams {
  minDeposit: bigint
  votingPeriodBlocks: bigint
  timelockBlocks: bigint
  quorumBps: number
  thresholdBps: number
  vetoBps: number
}

export interface ChainParams {
  blockGasLimit: bigint
  minBaseFee: bigint
  blockTimeMs: bigint
}

/**
 * A parameter's field: its width in the contract's struct (bits: 16 and 32 are numbers in
 * TypeScript, 64 and 256 bigints) and the closed range the contract accepts. `max: 'totalBonded'`:
 * at most `Staking.totalBonded()` when the change is made.
 */
export interface ParamBound {
  bits: 16 | 32 | 64 | 256
  min: bigint
  max: bigint | 'totalBonded'
}

const MAX_GOV_PERIOD_BLOCKS = 31_536_000n

/** `Governance.govParams()`'s fields and their bounds. */
export const GOV_PARAM_BOUNDS: Readonly<Record<keyof GovParams, ParamBound>> = {
  minDeposit: { bits: 256, min: 0n, max: 'totalBonded' },
  votingPeriodBlocks: { bits: 64, min: 1n, max: MAX_GOV_PERIOD_BLOCKS },
  timelockBlocks: { bits: 64, min: 0n, max: MAX_GOV_PERIOD_BLOCKS },
  quorumBps: { bits: 16, min: 0n, max: 6666n },
  thresholdBps: { bits: 16, min: 1n, max: 6666n },
  vetoBps: { bits: 16, min: 3334n, max: 10_000n },
}

/** `Governance.chainParams()`'s fields and their bounds. */
export const CHAIN_PARAM_BOUNDS: Readonly<Record<keyof ChainParams, ParamBound>> = {
  blockGasLimit: { bits: 64, min: 5_000_000n, max: 500_000_000n },
  minBaseFee: { bits: 256, min: 0n, max: 100n * 10n ** 9n },
  blockTimeMs: { bits: 64, min: 1n, max: 3_600_000n },
}

/** One change as written on a command line: `staking.epochLength=10`. */
export interface ParamChange {
  group: 'staking' | 'governance'
  name: string
  value: string
}

/** `group.name=value` (group `staking` or `governance`), or null when it is not of that form. */
export function parseParamChange(text: string): ParamChange | null {
  const m = /^(staking|governance)\.([A-Za-z]+)=(.+)$/.exec(text)
  if (m === null) return null
  return { group: m[1] as ParamChange['group'], name: m[2] as string, value: m[3] as string }
}

/** Why a change cannot apply: a name the parameters do not have, or a value that is not an integer. */
export type ParamChangeProblem =
  | { kind: 'unknown'; name: string; known: string[] }
  | { kind: 'not-integer'; name: string; value: string }

/**
 * `current` with `changes` (`[name, value]`, the value a non-negative integer in base units) applied:
 * a field that is a bigint takes a bigint, any other a number. A change that cannot apply throws what
 * `refuse` makes of its problem (the caller's error: a genesis's or a command line's).
 */
export function applyParamChanges<T extends object>(
  current: T,
  changes: readonly (readonly [name: string, value: string])[],
  refuse: (problem: ParamChangeProblem) => Error,
): T {
  const out = { ...current } as Record<string, unknown>
  for (const [name, value] of changes) {
    if (!(name in out)) throw refuse({ kind: 'unknown', name, known: Object.keys(out) })
    if (!/^\d+$/.test(value)) throw refuse({ kind: 'not-integer', name, value })
    out[name] = typeof out[name] === 'bigint' ? BigInt(value) : Number(value)
  }
  return out as T
}
