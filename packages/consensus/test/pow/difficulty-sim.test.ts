// ASERT under a hash rate that jumps ×10 and drops ÷10 (seeded, virtual time: difficulty-sim.ts):
// block times return to the spacing within a few half-lives, as the rule's continuous model
// predicts, and stay there. The same checks fail for a fixed difficulty and for a half-life ten
// times longer than the one they are judged against, so they can fail.
//
// The model: let u be the expected block time in spacings (1 on target). A hash rate ×f makes it
// 1/f; ASERT scales the target by 2^(schedule offset / H), H the half-life, and the offset moves by
// (block time − spacing) per block, so in continuous time du/dt = ln2 × (1 − u) / H, and u takes
// H/ln2 × ln(|u₀ − 1| / |u₁ − 1|) to go from u₀ to u₁: 2.6 half-lives from ×10 (u 0.1 → 0.85), 5.9
// from ÷10 (u 10 → 1.15, the first slow blocks taking long). The bounds allow 1.5× that for the
// randomness of block times; the seeds' runs took 2.1–3.0 and 5.3–7.8.
import { describe, expect, it } from 'vitest'
import type { AsertParams } from '../../src/pow/asert.ts'
import { TWO_256, targetFromBits } from '../../src/pow/compact-bits.ts'
import { workOf } from '../../src/pow/work.ts'
import { asertRule, type DifficultyRule, mineBlocks, recovery, type SimBlock } from './difficulty-sim.ts'

const BAND = 0.15
/** Predicted half-lives to enter the ±15% band, and the bound a run must meet (1.5×). */
const PREDICTED = { up: Math.log(0.9 / 0.15) / Math.LN2, down: Math.log(9 / 0.15) / Math.LN2 }

interface Scenario {
  name: string
  params: AsertParams
  genesisBits: number
}

const SCENARIOS: Scenario[] = [
  // the specification's parameters, targets below 2^224
  {
    name: 'BCH (600 s, 2-day half-life)',
    params: { spacing: 600n, halfLife: 172_800n, powLimit: targetFromBits(0x1d00ffff) },
    genesisBits: 0x1c0fffff,
  },
  // a small memory-hard chain: 12 s blocks, 288 of them a half-life, targets near 2^256
  {
    name: '12 s, 3456 s half-life, pow limit 2^256',
    params: { spacing: 12n, halfLife: 3456n, powLimit: TWO_256 - 1n },
    genesisBits: 0x1f7fffff,
  },
]

const BEFORE = 500

/** Mines BEFORE blocks at the rate the genesis target was set for, then `after` at ×factor. */
function run(s: Scenario, seed: number, factor: number, rule?: DifficultyRule): SimBlock[] {
  const genesis = { height: 0n, time: 1_700_000_000n, bits: s.genesisBits }
  const h0 = Number(workOf(targetFromBits(s.genesisBits))) / Number(s.params.spacing)
  return mineBlocks({
    seed,
    rule: rule ?? asertRule(s.params, genesis),
    start: genesis,
    phases: [
      { blocks: BEFORE, hashrate: h0 },
      { blocks: factor > 1 ? 4000 : 3000, hashrate: h0 * factor },
    ],
  })
}

/** What is wrong with how the blocks after the change returned to the spacing (nothing: []). */
function returnsToTarget(blocks: readonly SimBlock[], s: Scenario, factor: number): string[] {
  const spacing = Number(s.params.spacing)
  const halfLife = Number(s.params.halfLife)
  const after = blocks.slice(BEFORE)
  const wrong: string[] = []
  const r = recovery(after, spacing, BAND)
  if (!r) return [`block times never settled within ±${BAND * 100}% of ${spacing} s`]
  // the change hit: the first blocks came ~f times too fast (too slow)
  if (factor > 1 ? r.meanEarly > spacing / 3 : r.meanEarly < spacing * 3) {
    wrong.push(
      `the first blocks after ×${factor} averaged ${r.meanEarly.toFixed(0)} s: the hash rate change did not bite`,
    )
  }
  const bound = 1.5 * (factor > 1 ? PREDICTED.up : PREDICTED.down)
  if (r.seconds > bound * halfLife) {
    wrong.push(
      `back within ±${BAND * 100}% after ${(r.seconds / halfLife).toFixed(2)} half-lives, over ${bound.toFixed(2)}`,
    )
  }
  const tail = after.slice(-1500)
  const mean = tail.reduce((a, b) => a + b.solveTime, 0) / tail.length
  if (Math.abs(mean / spacing - 1) > 0.08) {
    wrong.push(`the last 1,500 blocks averaged ${mean.toFixed(1)} s, not ${spacing} s ± 8%`)
  }
  return wrong
}

describe('ASERT under hash rate ×10 and ÷10 (seeded, virtual time)', () => {
  it.each(
    SCENARIOS.flatMap((s) => [10, 0.1].map((f) => [s.name, f, s] as const)),
  )('%s, hash rate ×%s: block times return to the spacing within the half-life’s scale', (_name, factor, s) => {
    for (const seed of [1, 2, 3]) {
      const blocks = run(s, seed, factor)
      expect(returnsToTarget(blocks, s, factor), `seed ${seed}`).toEqual([])
      // and the recovery took half-lives, not a block: ASERT does not jump
      const r = recovery(blocks.slice(BEFORE), Number(s.params.spacing), BAND)!
      expect(r.seconds / Number(s.params.halfLife)).toBeGreaterThan(factor > 1 ? 1.5 : 4)
    }
  })

  it('the checks fail for a fixed difficulty and for a half-life ten times too long', () => {
    const s = SCENARIOS[0]!
    const genesisTarget = targetFromBits(s.genesisBits)
    const fixed: DifficultyRule = () => genesisTarget
    expect(returnsToTarget(run(s, 1, 10, fixed), s, 10)).toEqual([`block times never settled within ±15% of 600 s`])
    const genesis = { height: 0n, time: 1_700_000_000n, bits: s.genesisBits }
    const sluggish = asertRule({ ...s.params, halfLife: s.params.halfLife * 10n }, genesis)
    const wrong = returnsToTarget(run(s, 1, 10, sluggish), s, 10)
    expect(wrong.length).toBeGreaterThan(0)
    expect(wrong.join('\n')).toMatch(/never settled|half-lives, over|last 1,500 blocks/)
  })
})
