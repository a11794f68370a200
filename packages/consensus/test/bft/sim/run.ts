/** Runs a range of seeds; shared by the unit test and the soak script. */
import { drawScenario, type Scenario } from './scenario.ts'
import { type SimResult, simulate } from './world.ts'

export interface RangeSummary {
  seeds: number
  failures: SimResult[]
  maxLivenessMs: number
  maxRound: number
  evidence: number
  refusals: number
  events: number
  tornWalRecords: number
  walRestarts: number
  setChanges: number
  joinedSignatures: number
}

/** The command that replays one seed. */
export function replayCommand(seed: number): string {
  return `BFT_SEED=${seed} npx vitest run packages/consensus/test/bft/sim.test.ts`
}

export function runSeeds(first: number, count: number, onResult?: (r: SimResult, s: Scenario) => void): RangeSummary {
  const summary: RangeSummary = {
    seeds: 0,
    failures: [],
    maxLivenessMs: 0,
    maxRound: 0,
    evidence: 0,
    refusals: 0,
    events: 0,
    tornWalRecords: 0,
    walRestarts: 0,
    setChanges: 0,
    joinedSignatures: 0,
  }
  for (let seed = first; seed < first + count; seed++) {
    const scenario = drawScenario(seed)
    const r = simulate(scenario)
    summary.seeds++
    if (r.violations.length > 0) summary.failures.push(r)
    summary.maxLivenessMs = Math.max(summary.maxLivenessMs, r.livenessMs)
    summary.maxRound = Math.max(summary.maxRound, r.maxRound)
    summary.evidence += r.evidence
    summary.refusals += r.refusals
    summary.events += r.events
    summary.tornWalRecords += r.tornWalRecords
    summary.walRestarts += r.walRestarts
    summary.setChanges += r.setChanges
    summary.joinedSignatures += r.joinedSignatures
    onResult?.(r, scenario)
  }
  return summary
}
