// A sample of the seeded simulation of a validator restarted after it was jailed (issue 66 item 5,
// jailed-restart-sim.ts) in every run; the soak runs many: `npx tsx
// packages/consensus/test/staking/jailed-restart-soak.ts --seeds 50`. Replay one:
// JAILED_SEED=N npx vitest run <this file>.
import { initCrypto } from '@cairn/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { drawJailedRestart, replayJailedRestartCommand, runJailedRestart } from './jailed-restart-sim.ts'

const only = process.env.JAILED_SEED === undefined ? undefined : Number(process.env.JAILED_SEED)
const SAMPLE = only === undefined ? [1, 2] : [only]

beforeAll(async () => {
  await initCrypto()
})

describe('a validator restarted after it was jailed, at every phase of its catch-up', () => {
  it.each(SAMPLE)('seed %i catches up and blames no honest peer', async (seed) => {
    const scenario = drawJailedRestart(seed)
    const run = await runJailedRestart(scenario)
    expect(run.violations, `${JSON.stringify(scenario)}\nreplay: ${replayJailedRestartCommand(seed)}`).toEqual([])
  }, 240_000)
})
