// The staking invariants (src/staking/invariants.ts) that the simulator, the chaos checker and the
// contract tests assert: each tells a run that keeps it from one that breaks it.
import { describe, expect, it } from 'vitest'
import {
  accountingImbalance,
  accountingOf,
  epochPowerAllowed,
  epochPowerMoved,
  setFollowsContract,
  validatorSetKey,
} from '../../src/staking/index.ts'

describe('staking invariants', () => {
  it('conservation: the balance is what the accounting holds; burned coins are not in it', () => {
    const a = accountingOf([40n, 5n, 3n, 2n, 1n, 9n])
    expect(a).toEqual({ bonded: 40n, unbonding: 5n, rewards: 3n, commissions: 2n, pool: 1n, burnedTotal: 9n })
    expect(accountingImbalance(51n, a)).toBe(0n)
    expect(accountingImbalance(50n, a)).toBe(-1n)
    expect(accountingImbalance(60n, a)).toBe(9n)
  })

  it('set keys: order and address case do not matter, powers do unless left out', () => {
    const a = [
      { address: '0xAA', power: 1n },
      { address: '0xbb', power: '2' },
    ]
    const b = [
      { address: '0xBB', power: 2n },
      { address: '0xaa', power: 1n },
    ]
    expect(validatorSetKey(a)).toBe(validatorSetKey(b))
    expect(validatorSetKey(a)).toBe('0xaa:1,0xbb:2')
    const c = [{ ...a[0], power: 3n } as { address: string; power: bigint }, a[1] as { address: string; power: string }]
    expect(validatorSetKey(c)).not.toBe(validatorSetKey(a))
    expect(validatorSetKey(c, { powers: false })).toBe(validatorSetKey(a, { powers: false }))
  })

  it('the set rule: the engine at H+2 against the contract after H, heights without an engine set skipped', () => {
    const contract = ['s0', 's1', 's2', 's3', 's4']
    const engine = new Map([
      [3, 's1'],
      [4, 's2'],
      [5, 'sX'],
      [6, 's4'],
    ])
    expect(
      setFollowsContract(
        3,
        7,
        (h) => engine.get(h),
        (h) => contract[h],
      ),
    ).toEqual([{ height: 5, engine: 'sX', contract: 's3' }])
  })

  it('the epoch bound: the power moved against maxPowerChangeBps of the old total, or the jailed power', () => {
    const before = new Map([
      ['a', 10n],
      ['b', 10n],
      ['c', 10n],
    ])
    const after = new Map([
      ['a', 12n],
      ['b', 10n],
      ['d', 5n],
    ])
    expect(epochPowerMoved(before, after)).toBe(2n + 10n + 5n)
    expect(epochPowerAllowed(before, 3000, 0n)).toBe(9n)
    expect(epochPowerAllowed(before, 3000, 10n)).toBe(10n)
    // a budget that rounds to zero still lets one unit move, as the contract's
    expect(epochPowerAllowed(new Map([['a', 1n]]), 1, 0n)).toBe(1n)
  })
})
