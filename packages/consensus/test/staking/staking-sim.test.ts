// A sample of the seeded staking simulation (staking-sim.ts) in every run; the soak runs many:
// `npm run test:staking-sim -- --seeds 100`. Replay one: STAKING_SEED=N npx vitest run <this file>.
import { initCrypto } from '@cairn/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { drawStakingScenario, replayStakingCommand, runStakingScenario } from './staking-sim.ts'

const only = process.env.STAKING_SEED === undefined ? undefined : Number(process.env.STAKING_SEED)
// Two seeds that cover the four event kinds between them (3: evidence, join; 5: join, silence, restart).
const SAMPLE = only === undefined ? [3, 5] : [only]

beforeAll(async () => {
  await initCrypto()
})

describe('the seeded staking simulation', () => {
  it.each(SAMPLE)('seed %i keeps every invariant', async (seed) => {
    const scenario = drawStakingScenario(seed)
    const run = await runStakingScenario(scenario)
    expect(run.violations, `${JSON.stringify(scenario)}\nreplay: ${replayStakingCommand(seed)}`).toEqual([])
  }, 240_000)
})
