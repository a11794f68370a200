// ASERT (aserti3-2d) against every one of the specification's published test vectors (14,000 in
// twelve runs: steady blocks at the limits, half-life jumps, random solve times, heights across
// 2^31 and 2^63, negative solve times), then the edges the vectors do not reach: bad parameters
// refused with their codes, and the 256-bit generalisation (a pow limit above 2^224).
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ASERT_SPEC_PARAMS,
  type AsertParams,
  asertTarget,
  nextAsertBits,
  nextAsertTarget,
} from '../../src/pow/asert.ts'
import { formatBits, TWO_256, targetFromBits } from '../../src/pow/compact-bits.ts'
import { PowErrorCode } from '../../src/pow/errors.ts'
import { readRuns } from './asert-vectors.ts'

const runs = readRuns()

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isCairnError(err) ? err.code : `not a CairnError: ${String(err)}`
  }
  return undefined
}

describe('aserti3-2d test vectors', () => {
  it('are all there: twelve runs, 14,000 vectors, each run as its header announces', () => {
    expect(runs.map((r) => r.file)).toEqual(
      Array.from({ length: 12 }, (_, i) => `run${String(i + 1).padStart(2, '0')}`),
    )
    expect(runs.reduce((n, r) => n + r.vectors.length, 0)).toBe(14_000)
    for (const run of runs) {
      expect(run.vectors.length, run.file).toBe(run.iterations)
      expect([run.vectors[0]?.height, run.vectors[0]?.time], run.file).toEqual([run.startHeight, run.startTime])
    }
  })

  it('cover heights past 2^63 and negative solve times', () => {
    const heights = runs.flatMap((r) => r.vectors.map((v) => v.height))
    expect(heights.some((h) => h > 2n ** 63n)).toBe(true)
    expect(heights.some((h) => h > 2n ** 31n && h < 2n ** 32n)).toBe(true)
    const backwards = runs.flatMap((r) => r.vectors.slice(1).filter((v, i) => v.time < r.vectors[i]!.time))
    expect(backwards.length).toBeGreaterThan(10_000)
  })

  it.each(runs.map((r) => [r.file, r] as const))('%s: every next target bit for bit', (_file, run) => {
    const wrong: string[] = []
    for (const v of run.vectors) {
      const bits = nextAsertBits(run.anchor, { height: v.height, time: v.time }, ASERT_SPEC_PARAMS)
      if (bits !== v.bits)
        wrong.push(`#${v.iteration} h=${v.height} t=${v.time}: ${formatBits(bits)}, want ${formatBits(v.bits)}`)
    }
    expect(wrong.slice(0, 5), `${wrong.length} of ${run.vectors.length} wrong (${run.description})`).toEqual([])
  })
})

describe('ASERT beyond the vectors', () => {
  const anchor = { height: 1n, parentTime: 0n, bits: 0x1d00ffff }

  it('refuses bad parameters and inputs with their codes', () => {
    const p = ASERT_SPEC_PARAMS
    expect(codeOf(() => nextAsertBits(anchor, { height: 0n, time: 0n }, p))).toBe(PowErrorCode.INVALID_PARAMS)
    expect(codeOf(() => nextAsertBits(anchor, { height: 2n, time: 0n }, { ...p, halfLife: 0n }))).toBe(
      PowErrorCode.INVALID_PARAMS,
    )
    expect(codeOf(() => nextAsertBits(anchor, { height: 2n, time: 0n }, { ...p, spacing: -1n }))).toBe(
      PowErrorCode.INVALID_PARAMS,
    )
    expect(codeOf(() => nextAsertBits(anchor, { height: 2n, time: 0n }, { ...p, powLimit: TWO_256 }))).toBe(
      PowErrorCode.INVALID_PARAMS,
    )
    // an anchor easier than the pow limit, a negative or zero anchor target
    expect(codeOf(() => nextAsertBits({ ...anchor, bits: 0x1d01ffff }, { height: 2n, time: 0n }, p))).toBe(
      PowErrorCode.INVALID_BITS,
    )
    expect(codeOf(() => nextAsertBits({ ...anchor, bits: 0x1d80ffff }, { height: 2n, time: 0n }, p))).toBe(
      PowErrorCode.INVALID_BITS,
    )
    expect(codeOf(() => nextAsertBits({ ...anchor, bits: 0x1d000000 }, { height: 2n, time: 0n }, p))).toBe(
      PowErrorCode.INVALID_BITS,
    )
    // 2^47 s off schedule: outside the specification's domain
    expect(codeOf(() => nextAsertBits(anchor, { height: 2n, time: 2n ** 47n + 600n }, p))).toBe(
      PowErrorCode.INVALID_PARAMS,
    )
    expect(codeOf(() => nextAsertBits(anchor, { height: 2n, time: 2n ** 47n - 1n + 600n }, p))).toBeUndefined()
  })

  it('clamps to the pow limit and to a target of 1 at the extremes', () => {
    const p = ASERT_SPEC_PARAMS
    expect(nextAsertBits(anchor, { height: 2n, time: 2n ** 46n }, p)).toBe(0x1d00ffff)
    expect(nextAsertTarget(anchor, { height: 2n ** 30n, time: 0n }, p)).toBe(1n)
  })

  it('with a pow limit near 2^256, doubles and halves exactly per half-life and clamps at the limit', () => {
    const p: AsertParams = { spacing: 12n, halfLife: 3456n, powLimit: TWO_256 - 1n }
    const anchorTarget = 1n << 240n
    // on schedule: the anchor's target; one half-life behind: twice it; two ahead: a quarter
    expect(asertTarget(anchorTarget, 24n, 1n, p)).toBe(anchorTarget)
    expect(asertTarget(anchorTarget, 24n + 3456n, 1n, p)).toBe(anchorTarget * 2n)
    expect(asertTarget(anchorTarget, 24n - 2n * 3456n, 1n, p)).toBe(anchorTarget / 4n)
    // 15 half-lives behind would be 2^255; 16 would be 2^256: the limit
    expect(asertTarget(anchorTarget, 24n + 15n * 3456n, 1n, p)).toBe(1n << 255n)
    expect(asertTarget(anchorTarget, 24n + 16n * 3456n, 1n, p)).toBe(TWO_256 - 1n)
    expect(asertTarget(anchorTarget, 24n + 10n ** 9n, 1n, p)).toBe(TWO_256 - 1n)
    // and the compact form of the limit decodes back within it
    expect(
      targetFromBits(
        nextAsertBits({ height: 0n, parentTime: 0n, bits: 0x2100ffff }, { height: 0n, time: 10n ** 6n }, p),
      ),
    ).toBeLessThan(TWO_256)
  })

  it('is monotone: later blocks get easier targets, more blocks harder ones (property)', () => {
    const p: AsertParams = { spacing: 600n, halfLife: 172_800n, powLimit: TWO_256 - 1n }
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 250n) - 1n }),
        fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        fc.bigInt({ min: 1n, max: 10n ** 5n }),
        (target, time, height, step) => {
          const at = asertTarget(target, time, height, p)
          expect(at).toBeGreaterThanOrEqual(1n)
          expect(at).toBeLessThanOrEqual(p.powLimit)
          expect(asertTarget(target, time + step, height, p)).toBeGreaterThanOrEqual(at)
          expect(asertTarget(target, time, height + step, p)).toBeLessThanOrEqual(at)
        },
      ),
      { numRuns: 300, seed: 68 },
    )
  })

  it('agrees with the specification’s 256-bit arithmetic wherever the pow limit is below 2^224 (property)', () => {
    // The reference's own overflow branch, written out: a left shift that loses bits of a 256-bit
    // integer gives the pow limit. Compared on random inputs with the unbounded implementation.
    const mask = TWO_256 - 1n
    const reference = (anchorTarget: bigint, timeDiff: bigint, heightDiff: bigint, q: AsertParams): bigint => {
      const exponent = ((timeDiff - q.spacing * (heightDiff + 1n)) * 65536n) / q.halfLife
      let shifts = exponent >> 16n
      const frac = exponent & 0xffffn
      const factor =
        65536n + ((195766423245049n * frac + 971821376n * frac * frac + 5127n * frac ** 3n + (1n << 47n)) >> 48n)
      let next = (anchorTarget * factor) & mask
      shifts -= 16n
      if (shifts <= 0n) next >>= -shifts
      else {
        const shifted = (next << shifts) & mask
        next = shifted >> shifts !== next ? q.powLimit : shifted
      }
      if (next === 0n) return 1n
      return next > q.powLimit ? q.powLimit : next
    }
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: ASERT_SPEC_PARAMS.powLimit }),
        fc.bigInt({ min: -(10n ** 10n), max: 10n ** 10n }),
        fc.bigInt({ min: 0n, max: 10n ** 7n }),
        (target, time, height) => {
          expect(asertTarget(target, time, height, ASERT_SPEC_PARAMS)).toBe(
            reference(target, time, height, ASERT_SPEC_PARAMS),
          )
        },
      ),
      { numRuns: 2000, seed: 68 },
    )
  })
})
