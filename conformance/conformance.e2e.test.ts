// The conformance tier in CI: each suite (rpc-compat against a real `cairn` process, blockchain
// through the real import path) must pass at least its recorded floor (floors.json).
import { describe, expect, it } from 'vitest'
import { summary } from './suite.ts'
import { floors, suites } from './suites.ts'

const floor = floors()

describe('conformance suites reach their floors', () => {
  // Each suite twice: as Cairn runs, and in reference mode (every speed shim off: `--reference`),
  // which must reach the same floor — the shims change speed, never an answer.
  for (const [suite, reference] of suites().flatMap((s) => [[s, false] as const, [s, true] as const])) {
    it.skipIf(!suite.present)(
      `${suite.name}${reference ? ' in reference mode' : ''} passes at least floors.json's count`,
      async () => {
        const r = await suite.run(reference ? { reference } : {})
        const min = floor[suite.name] ?? 0
        const failures = r.failures.map((f) => `${f.name}: ${f.why.split('\n')[0]}`).join('\n')
        expect(r.passed, `${summary(r)}; floor ${min}\n${failures}`).toBeGreaterThanOrEqual(min)
      },
      600_000,
    )
  }
})
