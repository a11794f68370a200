// The conformance tier in CI: each suite (rpc-compat against a real `cairn` process, blockchain
// through the real import path) must pass at least its recorded floor (floors.json), and reference
// mode (every speed shim off: `--reference`) must answer as Cairn does — the shims change speed,
// never an answer. Reference mode runs rpc-compat whole and a deterministic quarter of blockchain
// (every 4th case: its whole run took ~100 s of CI), whose passes and failures must be exactly the
// normal run's on the same cases; `npm run test:conformance -- --reference` runs it whole.
import { describe, expect, it } from 'vitest'
import { type SuiteResult, summary } from './suite.ts'
import { floors, suites } from './suites.ts'

const floor = floors()
/** Reference mode's sample of a suite: every k-th case (1: all). */
const REFERENCE_EVERY: Record<string, number> = { blockchain: 4 }

describe('conformance suites reach their floors', () => {
  for (const suite of suites()) {
    const normal: { result?: SuiteResult } = {}
    it.skipIf(!suite.present)(
      `${suite.name} passes at least floors.json's count`,
      async () => {
        const r = await suite.run({})
        normal.result = r
        const min = floor[suite.name] ?? 0
        const failures = r.failures.map((f) => `${f.name}: ${f.why.split('\n')[0]}`).join('\n')
        expect(r.passed, `${summary(r)}; floor ${min}\n${failures}`).toBeGreaterThanOrEqual(min)
      },
      600_000,
    )
    const every = REFERENCE_EVERY[suite.name] ?? 1
    it.skipIf(!suite.present)(
      `${suite.name} in reference mode (${every === 1 ? 'every case' : `every ${every}th case`}) answers as Cairn does`,
      async () => {
        const r = await suite.run({ reference: true, every })
        if (every === 1) {
          const min = floor[suite.name] ?? 0
          const failures = r.failures.map((f) => `${f.name}: ${f.why.split('\n')[0]}`).join('\n')
          expect(r.passed, `${summary(r)}; floor ${min}\n${failures}`).toBeGreaterThanOrEqual(min)
          return
        }
        // The sample: the same cases fail as in the normal run (which ran just before), no others.
        const base = normal.result ?? (await suite.run({}))
        const ran = new Set(r.ran)
        expect(ran.size).toBeGreaterThan(0)
        const failedNormally = base.failures.filter((f) => ran.has(f.name)).map((f) => f.name)
        expect(
          r.failures.map((f) => f.name),
          r.failures.map((f) => `${f.name}: ${f.why.split('\n')[0]}`).join('\n'),
        ).toEqual(failedNormally)
        expect(r.passed + r.failed).toBe(ran.size)
      },
      600_000,
    )
  }
})
