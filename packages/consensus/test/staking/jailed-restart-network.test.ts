// A sample of the seeded simulation of a validator restarted after it was jailed (issue 66 item 5,
// jailed-restart-sim.ts) in every run; the soak runs many: `node --import tsx
// packages/consensus/test/staking/jailed-restart-soak.ts --seeds 50`. Replay one:
// JAILED_SEED=N npx vitest run <this file>.
import { initCrypto } from '@cairn/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { drawJailedRestart, replayJailedRestartCommand, runJailedRestart } from './jailed-restart-sim.ts'

const only = process.env.JAILED_SEED === undefined ? undefined : Number(process.env.JAILED_SEED)
// Seed 40 restarts it at all four phases (during the range sync, at the jailing height, mid
// catch-up, right after its engine jumped); on the code before the fix it was stuck after the
// second (block 11 refused: "carries 0 validator changes, the parent returned 1", its sender blamed).
const SAMPLE = only === undefined ? [40] : [only]

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
