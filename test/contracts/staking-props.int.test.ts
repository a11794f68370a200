// Property tests of the Staking system contract on a real in-process Cairn dev node: random
// sequences of delegate / undelegate / redelegate / reward / double-sign slash / withdraw / epoch
// update with fuzzed amounts, each run from the same snapshot. After every step the contract's
// balance equals its accounting (bonded + unbonding + unpaid rewards + commissions + community
// pool); a tombstoned validator stays tombstoned and out of the active set; the same evidence never
// slashes twice; an epoch update moves at most maxPowerChangeBps of the old total power besides
// removing jailed members.
import { epochPowerAllowed, epochPowerMoved } from '@cairn/consensus/staking'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Call,
  ETH,
  freshAddress,
  type Harness,
  initStaking,
  STAKING_ADDRESS,
  SYSTEM_ADDRESS,
  stakingAbi,
  startHarness,
  testParams,
} from './system-contracts.ts'

const P = testParams({ maxValidators: 3, unbondingBlocks: 4n, maxPowerChangeBps: 3000 })
const WEI = fc.bigInt({ min: 1n, max: 6n * ETH })
const op = fc.oneof(
  fc.record({ kind: fc.constant('delegate' as const), d: fc.nat(3), v: fc.nat(3), amount: WEI }),
  fc.record({
    kind: fc.constant('undelegate' as const),
    d: fc.nat(3),
    v: fc.nat(3),
    pct: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({
    kind: fc.constant('redelegate' as const),
    d: fc.nat(3),
    v: fc.nat(3),
    w: fc.nat(3),
    pct: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({
    kind: fc.constant('reward' as const),
    signed: fc.nat(15),
    missed: fc.nat(15),
    value: fc.bigInt({ min: 0n, max: 3n * ETH }),
  }),
  fc.record({ kind: fc.constant('slash' as const), v: fc.nat(3), back: fc.nat(3), round: fc.nat(1) }),
  fc.record({ kind: fc.constant('withdraw' as const), d: fc.nat(3), v: fc.nat(3) }),
  fc.record({ kind: fc.constant('mine' as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('epoch' as const) }),
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

describe('Staking properties (fast-check over random operation sequences)', () => {
  let h: Harness
  let snapshot: Hex
  const ops: Hex[] = []
  const cons: Hex[] = []
  const delegators: Hex[] = []

  const trySend = (from: Hex, fn: string, args: unknown[], value = 0n) =>
    h.trySend(from, STAKING_ADDRESS, stakingAbi, fn, args, value)
  const activeSet = async () => {
    const [addrs, powers] = await h.st<[Hex[], bigint[]]>('activeSet')
    return new Map(addrs.map((a, i) => [a.toLowerCase(), powers[i]!]))
  }
  const validator = async (o: Hex) => {
    const v = await h.st<[Hex, bigint, bigint, number, boolean, boolean]>('getValidator', [o])
    return { tokens: v[1], jailed: v[4], tombstoned: v[5] }
  }

  beforeAll(async () => {
    h = await startHarness()
    for (let i = 0; i < 4; i++) {
      ops.push(await h.account())
      cons.push(freshAddress())
      delegators.push(await h.account())
    }
    // three genesis validators; the fourth registers later and competes for the 3 seats
    await initStaking(
      h,
      P,
      [0, 1, 2].map((i) => ({ operator: ops[i]!, consensus: cons[i]!, selfBond: 10n * ETH, commissionBps: 500 * i })),
    )
    await h.send(ops[3]!, STAKING_ADDRESS, stakingAbi, 'createValidator', [cons[3], 300, 2000, 100, ETH, ''], 8n * ETH)
    // every delegator starts with stake on two validators, so undelegations, redelegations and
    // slashes have something to move from the first step
    await h.batch(
      delegators.flatMap((d, i) => [
        [d, STAKING_ADDRESS, stakingAbi, 'delegate', [ops[i]], 3n * ETH] as Call,
        [d, STAKING_ADDRESS, stakingAbi, 'delegate', [ops[(i + 1) % 4]], 2n * ETH] as Call,
      ]),
    )
    snapshot = await h.rpc<Hex>('evm_snapshot')
  }, 60_000)
  afterAll(async () => {
    await h?.close()
  })

  async function apply(o: Op, tombstoned: Set<string>) {
    switch (o.kind) {
      case 'delegate':
        return trySend(delegators[o.d]!, 'delegate', [ops[o.v]], o.amount)
      case 'undelegate': {
        const held = await h.st<bigint>('delegationOf', [delegators[o.d], ops[o.v]])
        const amount = (held * BigInt(o.pct)) / 100n
        return amount > 0n ? trySend(delegators[o.d]!, 'undelegate', [ops[o.v], amount]) : null
      }
      case 'redelegate': {
        const held = await h.st<bigint>('delegationOf', [delegators[o.d], ops[o.v]])
        const amount = (held * BigInt(o.pct)) / 100n
        return amount > 0n ? trySend(delegators[o.d]!, 'redelegate', [ops[o.v], ops[o.w], amount]) : null
      }
      case 'reward': {
        const signed = cons.filter((_, i) => (o.signed >> i) & 1)
        const missed = cons.filter((_, i) => !((o.signed >> i) & 1) && (o.missed >> i) & 1)
        return h.system('reward', [signed, missed], o.value)
      }
      case 'slash': {
        const head = await h.blockNumber()
        const height = head > BigInt(o.back) ? head - BigInt(o.back) : 0n
        const args = [cons[o.v], height, o.round, 2]
        const r = await h.system('slashDoubleSign', args)
        const v = await validator(ops[o.v]!)
        if (v.tombstoned) tombstoned.add(cons[o.v]!.toLowerCase())
        // the same evidence never slashes twice
        const again = await h.pub.simulateContract({
          account: SYSTEM_ADDRESS,
          address: STAKING_ADDRESS,
          abi: stakingAbi,
          functionName: 'slashDoubleSign',
          args,
        })
        expect(again.result).toBe(false)
        return r
      }
      case 'withdraw':
        await trySend(delegators[o.d]!, 'withdrawRewards', [ops[o.v]])
        await trySend(ops[o.v]!, 'withdrawCommission', [])
        return trySend(delegators[o.d]!, 'withdrawUnbonded', [])
      case 'mine':
        return h.mine(o.n)
      case 'epoch': {
        const before = await activeSet()
        let forced = 0n
        for (const [c, pw] of before) {
          const operator = await h.st<Hex>('validatorByConsensus', [c])
          if ((await validator(operator)).jailed) forced += pw
        }
        const r = await h.system('epochUpdate')
        const after = await activeSet()
        expect(after.size).toBeGreaterThan(0)
        expect(after.size).toBeLessThanOrEqual(P.maxValidators)
        // the epoch bound (consensus's staking/invariants.ts)
        expect(epochPowerMoved(before, after)).toBeLessThanOrEqual(
          epochPowerAllowed(before, P.maxPowerChangeBps, forced),
        )
        return r
      }
    }
  }

  it('conservation, tombstones, evidence and the epoch bound hold after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 8 }), async (seq) => {
        await h.rpc('evm_revert', [snapshot])
        snapshot = await h.rpc<Hex>('evm_snapshot')
        const tombstoned = new Set<string>()
        for (const o of seq) {
          await apply(o, tombstoned)
          expect(
            await h.imbalance(),
            JSON.stringify(o, (_, x) => (typeof x === 'bigint' ? `${x}` : x)),
          ).toBe(0n)
          const set = await activeSet()
          for (const t of tombstoned) {
            const operator = await h.st<Hex>('validatorByConsensus', [t])
            expect((await validator(operator)).tombstoned).toBe(true)
            if (o.kind === 'epoch') expect(set.has(t)).toBe(false) // never returns
          }
        }
        // unpaid rewards cover every delegation's pending rewards; tokens add up to totalBonded
        let pending = 0n
        let tokens = 0n
        for (const o of ops) {
          tokens += (await validator(o)).tokens
          for (const d of [...delegators, o]) pending += await h.st<bigint>('pendingRewards', [d, o])
        }
        expect(pending).toBeLessThanOrEqual(await h.st<bigint>('rewardsOutstanding'))
        expect(tokens).toBe(await h.st<bigint>('totalBonded'))
      }),
      { numRuns: 8, seed: 5050, endOnFailure: true },
    )
  }, 120_000)
})
