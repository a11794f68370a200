/**
 * The seeded simulator over many seeds (see sim/): agreement, validity, no honest double sign,
 * evidence for every equivocation an honest validator saw, liveness after healing, and honest
 * validators sign only at heights where they are members (the sets change at H+2: scenario.ts).
 * Replay one seed: BFT_SEED=123 npx vitest run packages/consensus/test/bft/sim.test.ts
 */
import { initCrypto } from '@cairn/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { replayCommand, runSeeds } from './sim/run.ts'
import { drawScenario } from './sim/scenario.ts'
import { simulate } from './sim/world.ts'

const SEEDS = 1000
// Chunks of 50 seeds: up to 2.0 s each on a quiet 2-core machine (chunks of 100 took 1.4–3.3 s, and
// the slowest, seeds 300..399, reached the 30 s test timeout once at a load of 9). A chunk is
// 15× under the timeout, a margin a loaded CI machine's unit tier (every core busy) stays within.
const CHUNK = 50
const only = process.env.BFT_SEED === undefined ? undefined : Number(process.env.BFT_SEED)

function report(failures: ReturnType<typeof runSeeds>['failures']): string {
  return failures
    .map((f) => `seed ${f.seed}: ${f.violations.join('; ')}\n  replay: ${replayCommand(f.seed)}`)
    .join('\n')
}

beforeAll(async () => {
  await initCrypto()
})

describe.runIf(only !== undefined)('one seed (BFT_SEED)', () => {
  it(`seed ${only}`, () => {
    const scenario = drawScenario(only as number)
    const fast = simulate(scenario)
    const real = simulate(scenario, { signatures: 'secp256k1' })
    console.log(JSON.stringify(scenario, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 1))
    console.log({ fast, real })
    expect(fast.violations).toEqual([])
    expect(real.violations).toEqual([])
  })
})

describe.runIf(only === undefined)(`the simulator over ${SEEDS} seeds`, () => {
  for (let first = 0; first < SEEDS; first += CHUNK) {
    it(`seeds ${first}..${first + CHUNK - 1} keep every invariant`, () => {
      const summary = runSeeds(first, CHUNK)
      expect(report(summary.failures)).toBe('')
      // The runs exercise what they claim to: equivocations and rounds past 0 happen.
      expect(summary.evidence).toBeGreaterThan(0)
      expect(summary.maxRound).toBeGreaterThan(0)
      // Crashes restart from the WAL (checked to be back in their round and lock), some with a torn record.
      expect(summary.walRestarts).toBeGreaterThan(0)
      expect(summary.tornWalRecords).toBeGreaterThan(0)
      // Validator sets change (add, remove, re-weigh at H+2) and validators that joined sign.
      expect(summary.setChanges).toBeGreaterThan(0)
      expect(summary.joinedSignatures).toBeGreaterThan(0)
    })
  }

  it('10 seeds with real secp256k1 signatures keep every invariant', () => {
    const failures = []
    for (let seed = 0; seed < 10; seed++) {
      const r = simulate(drawScenario(seed * 7919 + 13), { signatures: 'secp256k1' })
      if (r.violations.length > 0) failures.push(r)
    }
    expect(report(failures)).toBe('')
  })

  // Seeds the soak found failing, each with its cause (the fix is in the sim's driver; see node.ts):
  // - 2306, 7350, 36188, 78045: a double-proposer's prevote for the value a validator locked on
  //   reached that validator only, early (deferred to the height), and the driver's relay of the
  //   proof-of-lock came from a side list that missed deferred votes: the re-proposal was never
  //   accepted. The relay now reads the machine's tally (`proofOfLock()`).
  // - 54598: an amnesiac validator's nil precommit reached one partition side only, and the sim's
  //   gossip carried own messages alone: the other side waited forever for > 2/3 precommits of the
  //   round. Peers now send a validator behind them the votes of its round (`votes(round)`), the
  //   gossip property Tendermint's liveness assumes.
  // - 3024 (found by the soak of the WAL's first version): the driver logged votes for two heights
  //   ahead, which the machine had dropped; the replay handed them over and the restarted machine
  //   locked where the original had not. The driver now logs only what `accepts()` says the machine
  //   considers.
  it.each([2306, 3024, 7350, 36188, 54598, 78045])('regression seed %i keeps every invariant', (seed) => {
    const r = simulate(drawScenario(seed))
    expect(r.violations).toEqual([])
    expect(r.livenessMs).toBeGreaterThanOrEqual(0)
  })

  it('the same seed replays the same run', () => {
    const a = simulate(drawScenario(4242))
    const b = simulate(drawScenario(4242))
    expect(a).toEqual(b)
  })
})

describe('the invariant checks', () => {
  it('catch two blocks at one height, an honest double sign, and an equivocation with no evidence', async () => {
    const { Recorder } = await import('./sim/recorder.ts')
    const r = new Recorder()
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    r.proposed.add(Buffer.from(a).toString('hex'))
    r.commit(0, 1, a, true)
    r.commit(1, 1, b, true)
    r.honestSigned(0, 1, 0, 2, a)
    r.honestSigned(0, 1, 0, 2, null)
    const signer = new Uint8Array(20).fill(9)
    r.sawVote(2, 1, 0, 1, signer, a)
    r.sawVote(2, 1, 0, 1, signer, b)
    r.checkEvidence(2, () => false)
    expect(r.violations.join('\n')).toMatch(/never proposed/)
    expect(r.violations.join('\n')).toMatch(/agreement/)
    expect(r.violations.join('\n')).toMatch(/double sign/)
    expect(r.violations.join('\n')).toMatch(/evidence/)
  })
})
