// The bound on `maxValidators` (Staking.MAX_VALIDATORS) proved against the gas the engine gives a
// system call: on a chain holding the most candidates the contract admits (MAX_CANDIDATES = 1,024,
// each a real one-coin `createValidator`, as any user can make them) with `maxValidators` at its
// bound, each set update that fills the set (MAX_SET_CHANGES joins at a time), a quiet one, those
// that swap members for better-staked outsiders, the reward over a full set of signers and the
// reward that jails every member for downtime each use at most half of SYSTEM_CALL_GAS (the other
// half is the margin against gas repricings, as EIP-2929's). The updates' wall time over the 1,024
// candidates is printed (docs/consensus/staking.md quotes it). In the sim tier (vitest.config.ts):
// ~1,000 calls' worth of EVM time, the same on any runtime.
import { bytesToHex } from '@cairn/utils'
import { toEventSelector } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { SYSTEM_CALL_GAS } from '../../src/staking/system-call.ts'
import { ETHER, STAKING, type StakingEvm, stakingEvm, testAccount } from './system-evm.ts'

const HALF = SYSTEM_CALL_GAS / 2n

// Each case is a few hundred system calls of EVM time: 24 s alone on a 2-core machine at load 20,
// past vitest's 30 s default when the suite runs beside the network simulations.
describe('system-call gas at the parameter bounds (1,024 candidates, maxValidators at its bound)', {
  timeout: 120_000,
}, () => {
  let e: StakingEvm
  let maxValidators: number
  let maxCandidates: number
  const operators: `0x${string}`[] = []

  beforeAll(async () => {
    const probe = await stakingEvm()
    maxValidators = Number(await probe.read(STAKING, 'MAX_VALIDATORS'))
    maxCandidates = Number(await probe.read(STAKING, 'MAX_CANDIDATES'))
    e = await stakingEvm({
      // every missed block past a one-block window jails: the reward that jails the whole set
      staking: {
        maxValidators,
        epochLength: 1_000_000n,
        maxPowerChangeBps: 3332,
        signedBlocksWindow: 1n,
        minSignedPerWindowBps: 10_000,
      },
    })
    const t0 = Date.now()
    for (let i = e.validators.length; i < maxCandidates; i++) {
      const op = testAccount('gas-candidate', i)
      const r = await e.call(op, STAKING, 'createValidator', [testAccount('gas-consensus', i), 0, 0, 0, 0n, ''], ETHER)
      expect(r.error).toBeUndefined()
      operators.push(op)
    }
    console.log(`${operators.length} createValidator calls in ${Date.now() - t0} ms`)
    expect(((await e.read(STAKING, 'candidates')) as unknown[]).length).toBe(maxCandidates)
    // one more is refused: the candidate count is bounded
    const extra = await e.call(
      testAccount('gas-candidate', 99_999),
      STAKING,
      'createValidator',
      [testAccount('x', 1), 0, 0, 0, 0n, ''],
      ETHER,
    )
    expect(extra.error).toBe(`TooManyCandidates(${maxCandidates})`)
  }, 300_000)

  const members = async () => ((await e.read(STAKING, 'activeSet')) as [string[], bigint[]])[0]

  /** Runs set updates until `done` (at most `max`); returns the most gas one used. */
  const updateUntil = async (label: string, done: () => Promise<boolean>, max = 8): Promise<bigint> => {
    let worst = 0n
    for (let i = 0; i < max && !(await done()); i++) {
      const t0 = Date.now()
      const r = await e.system('epochUpdate')
      console.log(`${label}, update ${i + 1}: ${r.gasUsed} gas, ${Date.now() - t0} ms`)
      if (r.gasUsed > worst) worst = r.gasUsed
    }
    expect(await done()).toBe(true)
    return worst
  }

  it('the set updates that fill the set each fit half the system-call gas (MAX_SET_CHANGES joins each)', async () => {
    const limit = Number(await e.read(STAKING, 'MAX_SET_CHANGES'))
    const first = await e.system('epochUpdate')
    console.log(`filling, update 0: ${first.gasUsed} gas`)
    expect(await members()).toHaveLength(e.validators.length + limit)
    expect(first.gasUsed).toBeLessThanOrEqual(HALF)
    const worst = await updateUntil(
      `filling ${maxValidators} seats over ${maxCandidates} candidates`,
      async () => (await members()).length === maxValidators,
    )
    expect(worst).toBeLessThanOrEqual(HALF)
  })

  it('a set update with nothing to change fits', async () => {
    const t0 = Date.now()
    const r = await e.system('epochUpdate')
    console.log(`quiet update over ${maxCandidates} candidates: ${r.gasUsed} gas, ${Date.now() - t0} ms`)
    expect(r.gasUsed).toBeLessThanOrEqual(HALF)
  })

  it('the set updates that swap MAX_SET_CHANGES members for outsiders with more stake each fit', async () => {
    const inSet = new Set((await members()).map((a) => a.toLowerCase()))
    const consensus = (i: number) => testAccount('gas-consensus', i + e.validators.length).toLowerCase()
    const outsiders = operators.filter((_, i) => !inSet.has(consensus(i)))
    const swaps = Number(await e.read(STAKING, 'MAX_SET_CHANGES'))
    for (const op of outsiders.slice(0, swaps)) {
      const r = await e.call(op, STAKING, 'delegate', [op], 2n * ETHER)
      expect(r.error).toBeUndefined()
    }
    const worst = await updateUntil(`swapping ${swaps} members`, async () => {
      const now = await members()
      return now.length === maxValidators && now.filter((a) => !inSet.has(a.toLowerCase())).length === swaps
    })
    expect(worst).toBeLessThanOrEqual(HALF)
  })

  it('the reward over a full set of signers fits', async () => {
    const [set] = (await e.read(STAKING, 'activeSet')) as [`0x${string}`[], bigint[]]
    let worst = 0n
    for (let i = 0; i < 2; i++) {
      const r = await e.system('reward', [set, []], ETHER)
      if (r.gasUsed > worst) worst = r.gasUsed
      e.skip(1n)
    }
    console.log(`reward over ${set.length} signers: ${worst} gas`)
    expect(worst).toBeLessThanOrEqual(HALF)
  })

  it('the reward that jails and slashes every member for downtime fits, as does the update after it', async () => {
    const [set] = (await e.read(STAKING, 'activeSet')) as [`0x${string}`[], bigint[]]
    const r = await e.system('reward', [[], set], ETHER)
    console.log(`reward jailing ${set.length} members: ${r.gasUsed} gas`)
    expect(r.gasUsed).toBeLessThanOrEqual(HALF)
    const jailedTopic = toEventSelector('Jailed(address,uint64,uint8)')
    expect(r.logs.filter(([, topics]) => bytesToHex(topics[0] as Uint8Array) === jailedTopic)).toHaveLength(set.length)
    const u = await e.system('epochUpdate')
    console.log(`epochUpdate after ${set.length} jailings: ${u.gasUsed} gas`)
    expect(u.gasUsed).toBeLessThanOrEqual(HALF)
  })
})
