/**
 * ASERT difficulty (aserti3-2d): Bitcoin Cash's absolutely scheduled exponentially rising targets,
 * integer only, from the specification (bitcoincash.org, spec/2020-11-15-asert.md). The target of
 * the block after `tip` depends only on a fixed anchor block and on how far `tip` is ahead of or
 * behind the ideal schedule since then:
 *
 *   next_target = anchor_target × 2^((tip_time − anchor_parent_time − spacing × (tip_height − anchor_height + 1)) / half_life)
 *
 * computed in 1/65536 fixed point with the specification's cubic approximation of 2^x on [0, 1),
 * then clamped to [1, powLimit]. No window of past blocks, so no oscillation and no state: a node
 * needs the anchor (a chain parameter) and the parent header. Bit for bit as the reference
 * implementation and its published test vectors (`test/pow/fixtures/aserti3-2d`).
 *
 * One generalisation: the specification requires the pow limit below 2^224 (32 spare bits for its
 * 256-bit arithmetic); here arithmetic is unbounded (bigint), so the pow limit may be any target
 * below 2^256 — a memory-hard seal is slow, and a small chain's targets are near the top. Where the
 * specification's precondition holds the results are identical: its overflow branch clamps to the
 * pow limit, and so does a value above the pow limit here.
 */
import { CairnError } from '@cairn/utils'
import { bitsFromTarget, formatBits, TWO_256, targetFromBits } from './compact-bits.ts'
import { PowErrorCode } from './errors.ts'

/** The difficulty rule's chain parameters. */
export interface AsertParams {
  /** The target time between blocks, in seconds (BCH: 600). */
  spacing: bigint
  /** Seconds ahead of (behind) schedule that halve (double) the target (BCH: 172,800, two days). */
  halfLife: bigint
  /** The easiest target allowed (BCH: 0x1d00ffff as compact bits). */
  powLimit: bigint
}

/** The block the schedule is counted from (BCH: the first block under ASERT's rule). */
export interface AsertAnchor {
  height: bigint
  /** The timestamp of the anchor block's parent (the schedule starts one spacing before the anchor). */
  parentTime: bigint
  /** The anchor block's own compact target. */
  bits: number
}

/** The block a new block is built on: its height and timestamp. */
export interface AsertTip {
  height: bigint
  time: bigint
}

/** The specification's parameters (Bitcoin Cash mainnet): what `cairn pow asert` defaults to. */
export const ASERT_SPEC_PARAMS: Readonly<AsertParams> = Object.freeze({
  spacing: 600n,
  halfLife: 172_800n,
  powLimit: targetFromBits(0x1d00ffff),
})

/** The specification's bound on |time diff − spacing × height diff| (its exponent stays in int64). */
export const ASERT_MAX_SCHEDULE_OFFSET = 1n << 47n

const RADIX = 16n

/**
 * The compact target of the block after `tip`: what the block's `bits` must be, and what its hash
 * is compared with (after the compact rounding). `tip` is the parent of the block being judged.
 * @throws CairnError `CONSENSUS_POW_INVALID_PARAMS` or `CONSENSUS_POW_INVALID_BITS`
 */
export function nextAsertBits(anchor: AsertAnchor, tip: AsertTip, params: AsertParams): number {
  checkParams(params)
  const anchorTarget = targetFromBits(anchor.bits, params.powLimit)
  if (tip.height < anchor.height) {
    throw invalid(
      `the tip's height ${tip.height} is below the anchor's ${anchor.height}`,
      'ASERT counts from the anchor block: the block built on must be the anchor or a descendant of it',
    )
  }
  const target = asertTarget(anchorTarget, tip.time - anchor.parentTime, tip.height - anchor.height, params)
  return bitsFromTarget(target)
}

/** {@link nextAsertBits} as the target the block's hash must not exceed (its compact form's value). */
export function nextAsertTarget(anchor: AsertAnchor, tip: AsertTip, params: AsertParams): bigint {
  return targetFromBits(nextAsertBits(anchor, tip, params))
}

/**
 * The specification's `CalculateASERT`: the full-precision target (not yet rounded to compact
 * form) `heightDiff + 1` blocks after the anchor, `timeDiff` seconds after the anchor's parent.
 * @throws CairnError `CONSENSUS_POW_INVALID_PARAMS`
 */
export function asertTarget(anchorTarget: bigint, timeDiff: bigint, heightDiff: bigint, params: AsertParams): bigint {
  checkParams(params)
  const { spacing, halfLife, powLimit } = params
  if (anchorTarget <= 0n || anchorTarget > powLimit) {
    throw invalid(`the anchor target must be in [1, pow limit], got ${anchorTarget}`, 'check --anchor-bits')
  }
  if (heightDiff < 0n) throw invalid(`the height difference must not be negative, got ${heightDiff}`)
  const offset = timeDiff - spacing * heightDiff
  if ((offset < 0n ? -offset : offset) >= ASERT_MAX_SCHEDULE_OFFSET) {
    throw invalid(
      `the tip is ${offset} s off the anchor's schedule, beyond the specification's 2^47 s`,
      'check the heights and times: no chain drifts 4 million years off schedule',
    )
  }
  // The exponent in 1/65536ths; division truncates toward zero, as C++'s does (bigint's too).
  const exponent = ((timeDiff - spacing * (heightDiff + 1n)) << RADIX) / halfLife
  // Integer part by an arithmetic (flooring) shift, fractional part in [0, 65536).
  let shifts = exponent >> RADIX
  const frac = exponent - (shifts << RADIX)
  // 65536 × 2^(frac/65536) by the specification's cubic, rounded (every term fits uint64).
  const factor =
    65536n + ((195_766_423_245_049n * frac + 971_821_376n * frac ** 2n + 5127n * frac ** 3n + (1n << 47n)) >> 48n)
  let next = anchorTarget * factor
  shifts -= RADIX
  if (shifts <= 0n) {
    next = -shifts >= 512n ? 0n : next >> -shifts
  } else {
    // Past 2^256 the value is clamped to the pow limit anyway: do not build a huge integer.
    next = shifts >= 512n ? TWO_256 : next << shifts
  }
  if (next === 0n) return 1n
  return next > powLimit ? powLimit : next
}

function checkParams(params: AsertParams): void {
  if (params.spacing <= 0n) throw invalid(`the block spacing must be positive, got ${params.spacing}`, 'e.g. 600')
  if (params.halfLife <= 0n) throw invalid(`the half-life must be positive, got ${params.halfLife}`, 'e.g. 172800')
  if (params.powLimit <= 0n || params.powLimit >= TWO_256) {
    throw invalid('the pow limit must be a target in [1, 2^256)', `e.g. ${formatBits(0x1d00ffff)}`)
  }
}

function invalid(message: string, hint?: string): CairnError {
  return new CairnError(PowErrorCode.INVALID_PARAMS, message, { fault: 'caller', hint })
}
