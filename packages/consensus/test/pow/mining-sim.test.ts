/**
 * The seeded network simulator of proof-of-work miners (mining-sim.ts) over many seeds: miners of
 * unequal hash rates under delays, partitions (some longer than the reorg limit) and a byzantine
 * miner; every arrival is checked against heaviest-work fork choice, the reorg limit and ASERT.
 * The checks are shown to fail for rules without the reorg limit and without header checks; and a
 * hash rate ×10 then ÷10 brings block times back to the spacing within the half-life's scale.
 * Replay one seed: POW_SIM_SEED=123 npx vitest run packages/consensus/test/pow/mining-sim.test.ts
 */
import { describe, expect, it } from 'vitest'
import { recovery, type SimBlock } from './difficulty-sim.ts'
import { drawScenario, type MiningResult, type SimBlockRecord, simulate, stepScenario } from './mining-sim.ts'

const SEEDS = 45
// ~120 ms a seed on a quiet 2-core machine (up to 250 ms loaded): a chunk of 15 is 2–4 s, far under the timeout.
const CHUNK = 15
const only = process.env.POW_SIM_SEED === undefined ? undefined : Number(process.env.POW_SIM_SEED)

function report(failures: MiningResult[]): string {
  return failures
    .map(
      (f) =>
        `seed ${f.seed}: ${f.violations.slice(0, 5).join('; ')}\n  replay: POW_SIM_SEED=${f.seed} npx vitest run packages/consensus/test/pow/mining-sim.test.ts`,
    )
    .join('\n')
}

describe.runIf(only !== undefined)('one seed (POW_SIM_SEED)', () => {
  it(`seed ${only}`, async () => {
    const scenario = drawScenario(only as number)
    const r = await simulate(scenario)
    console.log(JSON.stringify(scenario, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 1))
    console.log({ blocks: r.blocks, reorgs: r.reorgDepths, refusals: r.refusals, invalid: r.refusedInvalid })
    expect(report(r.violations.length ? [r] : [])).toBe('')
  })
})

describe.runIf(only === undefined)(`the mining simulator over ${SEEDS} seeds`, () => {
  const seen = { runs: 0, refusals: 0, deepest: 0, invalid: new Set<string>() }
  for (let first = 0; first < SEEDS; first += CHUNK) {
    it(`seeds ${first}..${first + CHUNK - 1} keep every invariant`, async () => {
      const failures: MiningResult[] = []
      for (let seed = first; seed < first + CHUNK; seed++) {
        const r = await simulate(drawScenario(seed))
        if (r.violations.length > 0) failures.push(r)
        seen.runs++
        seen.refusals += r.refusals
        seen.deepest = Math.max(seen.deepest, ...r.reorgDepths)
        for (const code of Object.keys(r.refusedInvalid)) seen.invalid.add(code)
      }
      expect(report(failures)).toBe('')
    })
  }

  it('the runs exercise what they claim: deep branches refused, multi-block reorgs, both byzantine faults', () => {
    if (seen.runs < SEEDS) return // a filtered run (-t) did not run every chunk
    expect(seen.refusals).toBeGreaterThan(0)
    expect(seen.deepest).toBeGreaterThanOrEqual(5)
    expect([...seen.invalid].sort()).toEqual(['CONSENSUS_POW_TIMESTAMP_FUTURE', 'CONSENSUS_POW_WRONG_DIFFICULTY'])
  })

  it('the checks fail for rules without the reorg limit and for rules without header checks', async () => {
    // seed 0: partitions longer than the limit, and a byzantine miner
    const s = drawScenario(0)
    const healthy = await simulate(s)
    expect(healthy.violations).toEqual([])
    expect(healthy.refusals).toBeGreaterThan(0)
    const noLimit = await simulate(s, { noReorgLimit: true })
    expect(noLimit.violations.join('\n')).toMatch(/a reorg reverted \d+ blocks, over the limit 10/)
    const noChecks = await simulate(s, { noHeaderChecks: true })
    expect(noChecks.violations.join('\n')).toMatch(/stored byzantine block/)
    expect(noChecks.violations.join('\n')).toMatch(/ASERT gives/)
  })
})

/** The heaviest chain's blocks, oldest first, as the difficulty simulator's blocks. */
function heaviestChain(all: Map<string, SimBlockRecord>): SimBlock[] {
  let best: SimBlockRecord | undefined
  for (const r of all.values()) if (!best || r.totalWork > best.totalWork) best = r
  const out: SimBlock[] = []
  for (let r = best; r?.parent; r = all.get(r.parent)) {
    const parent = all.get(r.parent)!
    const expectedTime = Number(r.work) / r.networkRate
    out.push({
      height: r.number,
      time: r.time,
      target: 0n,
      hashrate: r.networkRate,
      solveTime: Number(r.time - parent.time),
      expectedTime,
    })
  }
  return out.reverse()
}

describe.runIf(only === undefined)('hash rate ×10 then ÷10 on the network', () => {
  // ASERT's continuous model (difficulty-sim.test.ts): 1.85 half-lives to come back within ±25% of
  // the spacing from ×10, 5.2 from ÷10; the bound allows 1.5× that for the randomness of block times.
  // (±25%, not ±15%: a half-life of 96 blocks lets the target wander ±7% a half-life by chance.)
  const BAND = 0.25
  const BOUND = { up: 1.5 * (Math.log(0.9 / BAND) / Math.LN2), down: 1.5 * (Math.log(9 / BAND) / Math.LN2) }
  it.each([1, 2, 3])('seed %i: block times return to the spacing within the half-life’s scale', async (seed) => {
    const s = stepScenario(seed)
    const r = await simulate(s)
    expect(r.violations).toEqual([])
    const chain = heaviestChain(r.all)
    const spacing = Number(s.asert.spacing)
    const halfLife = Number(s.asert.halfLife)
    const [up, down] = s.steps.map((st) => st.at) as [number, number]
    const t = (b: SimBlock) => Number(b.time) - 1_700_000_000
    const afterUp = chain.filter((b) => t(b) >= up && t(b) < down)
    const afterDown = chain.filter((b) => t(b) >= down)
    const ru = recovery(afterUp, spacing, BAND)
    const rd = recovery(afterDown, spacing, BAND)
    expect(ru, 'after ×10').toBeDefined()
    expect(rd, 'after ÷10').toBeDefined()
    // the change bit (blocks came several times too fast, too slow), then came back in half-lives
    expect(ru!.meanEarly).toBeLessThan(spacing / 3)
    expect(rd!.meanEarly).toBeGreaterThan(spacing * 3)
    expect(ru!.seconds / halfLife).toBeLessThan(BOUND.up)
    expect(rd!.seconds / halfLife).toBeLessThan(BOUND.down)
    expect(ru!.seconds / halfLife).toBeGreaterThan(1)
    expect(rd!.seconds / halfLife).toBeGreaterThan(2)
    console.log(
      `seed ${seed}: ×10 back in ${(ru!.seconds / halfLife).toFixed(2)} half-lives, ÷10 in ${(rd!.seconds / halfLife).toFixed(2)}`,
    )
  })
})
