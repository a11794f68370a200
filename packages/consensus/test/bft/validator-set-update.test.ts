/**
 * Validator-set updates against CometBFT: `ValidatorSet.update` is `UpdateWithChangeSet` and the
 * schedule's per-height step is `state.updateState` (update, then one increment). Vectors from
 * CometBFT's `types/validator_set_test.go` and `state/state_test.go` (names "v1"… become 20-byte
 * addresses padded with zeros, which keeps their byte order).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeScheduleRecord,
  encodeScheduleRecord,
  MAX_TOTAL_VOTING_POWER,
  ValidatorSchedule,
  ValidatorSet,
} from '../../src/index.ts'

const addr = (name: string): Uint8Array => {
  const a = new Uint8Array(20)
  a.set(new TextEncoder().encode(name))
  return a
}
const nameOf = (a: Uint8Array): string => new TextDecoder().decode(a.subarray(0, a.indexOf(0) < 0 ? 20 : a.indexOf(0)))
type TestVal = [string, number]
const vals = (list: TestVal[]) => list.map(([n, p]) => ({ address: addr(n), votingPower: BigInt(p) }))
/** CometBFT's `createNewValidatorSet` (NewValidatorSet: priorities 0, one increment). */
const createSet = (list: TestVal[]) => ValidatorSet.create(vals(list))
const toList = (set: ValidatorSet): TestVal[] => set.validators.map((v) => [nameOf(v.address), Number(v.votingPower)])
const testValSet = (n: number, power: number): TestVal[] =>
  Array.from({ length: n }, (_, i) => [`v${i + 1}`, power] as TestVal)

/** CometBFT's `verifyValidatorSet`: priorities centred (|sum| < n) and scaled (spread ≤ 2 × total). */
function expectScaledAndCentred(set: ValidatorSet): void {
  const sum = set.validators.reduce((s, v) => s + v.proposerPriority, 0n)
  const n = BigInt(set.size)
  expect(sum < n && sum > -n).toBe(true)
  const ps = set.validators.map((v) => v.proposerPriority)
  const spread = ps.reduce((a, b) => (a > b ? a : b)) - ps.reduce((a, b) => (a < b ? a : b))
  expect(spread <= 2n * set.totalVotingPower).toBe(true)
}

describe('ValidatorSet.update (CometBFT UpdateWithChangeSet)', () => {
  // TestValSetUpdatesBasicTestsExecute
  it.each<[string, TestVal[], TestVal[], TestVal[]]>([
    ['no changes', testValSet(2, 10), [], testValSet(2, 10)],
    [
      'voting power changes',
      testValSet(2, 10),
      [
        ['v2', 22],
        ['v1', 11],
      ],
      [
        ['v2', 22],
        ['v1', 11],
      ],
    ],
    [
      'add new validators',
      [
        ['v2', 20],
        ['v1', 10],
      ],
      [
        ['v4', 40],
        ['v3', 30],
      ],
      [
        ['v4', 40],
        ['v3', 30],
        ['v2', 20],
        ['v1', 10],
      ],
    ],
    [
      'add new validator to middle',
      [
        ['v3', 20],
        ['v1', 10],
      ],
      [['v2', 30]],
      [
        ['v2', 30],
        ['v3', 20],
        ['v1', 10],
      ],
    ],
    [
      'add new validator to beginning',
      [
        ['v3', 20],
        ['v2', 10],
      ],
      [['v1', 30]],
      [
        ['v1', 30],
        ['v3', 20],
        ['v2', 10],
      ],
    ],
    [
      'delete validators',
      [
        ['v3', 30],
        ['v2', 20],
        ['v1', 10],
      ],
      [['v2', 0]],
      [
        ['v3', 30],
        ['v1', 10],
      ],
    ],
  ])('%s', (_name, start, updates, expected) => {
    const set = createSet(start).update(vals(updates))
    expect(toList(set)).toEqual(expected)
    expectScaledAndCentred(set)
  })

  // TestValSetUpdatesDuplicateEntries, TestValSetUpdatesOverflows, TestValSetUpdatesOtherErrors
  it.each<[string, [string, number | bigint][], [string, bigint][]]>([
    [
      'first entry duplicated',
      testValSet(2, 10),
      [
        ['v1', 11n],
        ['v1', 22n],
      ],
    ],
    [
      'duplicates separated by a valid change',
      testValSet(3, 10),
      [
        ['v1', 11n],
        ['v3', 22n],
        ['v1', 12n],
      ],
    ],
    [
      'duplicated remove',
      testValSet(2, 10),
      [
        ['v1', 0n],
        ['v1', 0n],
      ],
    ],
    [
      'remove and update the same',
      testValSet(2, 10),
      [
        ['v1', 0n],
        ['v2', 20n],
        ['v1', 30n],
      ],
    ],
    ['single update overflowing', testValSet(2, 10), [['v1', (1n << 63n) - 1n]]],
    ['add exceeding the max total', [['v1', MAX_TOTAL_VOTING_POWER - 1n]], [['v2', 5n]]],
    ['negative power', testValSet(2, 10), [['v1', -123n]]],
    ['remove a non-member', testValSet(2, 10), [['v3', 0n]]],
    [
      'delete all validators',
      [
        ['v1', 10],
        ['v2', 20],
        ['v3', 30],
      ],
      [
        ['v1', 0n],
        ['v2', 0n],
        ['v3', 0n],
      ],
    ],
  ])('refuses: %s', (_name, start, updates) => {
    const set = ValidatorSet.create(start.map(([n, p]) => ({ address: addr(n), votingPower: BigInt(p) })))
    expect(() => set.update(updates.map(([n, p]) => ({ address: addr(n), votingPower: p })))).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_BFT_INVALID_VALIDATOR_SET' }),
    )
  })

  // TestValSetUpdatesOrderIndependenceTestsExecute
  it.each<[TestVal[], TestVal[]]>([
    [
      [
        ['v4', 40],
        ['v3', 30],
        ['v2', 10],
        ['v1', 10],
      ],
      [
        ['v4', 44],
        ['v3', 33],
        ['v2', 22],
        ['v1', 11],
      ],
    ],
    [
      [
        ['v2', 20],
        ['v1', 10],
      ],
      [
        ['v3', 30],
        ['v4', 40],
        ['v5', 50],
        ['v6', 60],
      ],
    ],
    [
      [
        ['v4', 40],
        ['v3', 30],
        ['v2', 20],
        ['v1', 10],
      ],
      [
        ['v1', 0],
        ['v3', 0],
        ['v4', 0],
      ],
    ],
    [
      [
        ['v4', 40],
        ['v3', 30],
        ['v2', 20],
        ['v1', 10],
      ],
      [
        ['v1', 0],
        ['v3', 0],
        ['v2', 22],
        ['v5', 50],
        ['v4', 44],
      ],
    ],
  ])('the order of the changes does not matter (%#)', (start, updates) => {
    const expected = createSet(start).update(vals(updates)).validators
    fc.assert(
      fc.property(fc.shuffledSubarray(updates, { minLength: updates.length }), (perm) => {
        const got = createSet(start).update(vals(perm))
        expect(got.validators).toEqual(expected)
        expectScaledAndCentred(got)
      }),
      { numRuns: 20 },
    )
  })

  // TestValSetUpdatePriorityOrderTests, case 2
  it('added validators get the lowest priority, all the same (−1.125 × the new total)', () => {
    const start = createSet([
      ['v3', 1000],
      ['v2', 2],
      ['v1', 1],
    ]).copyIncrementProposerPriority(137)
    const set = start.update(
      vals([
        ['v5', 50],
        ['v4', 40],
        ['v2', 1],
        ['v3', 0],
      ]),
    )
    expect(toList(set)).toEqual([
      ['v5', 50],
      ['v4', 40],
      ['v1', 1],
      ['v2', 1],
    ])
    expectScaledAndCentred(set)
    const byPriority = [...set.validators].sort((a, b) => (a.proposerPriority < b.proposerPriority ? -1 : 1))
    expect(
      byPriority
        .slice(0, 2)
        .map((v) => nameOf(v.address))
        .sort(),
    ).toEqual(['v4', 'v5'])
    expect(byPriority[0]?.proposerPriority).toBe(byPriority[1]?.proposerPriority)
  })

  // state/state_test.go TestProposerPriorityDoesNotGetResetToZero: the differential example, step
  // by step through updateState (update, then one increment per height).
  it('keeps priorities across an addition and a power change (CometBFT state_test vector)', () => {
    const v1 = addr('val1')
    const v2 = addr('val2')
    const schedule = new ValidatorSchedule(
      [{ address: v1, votingPower: 10n }],
      new Map([
        [3, [{ address: v2, votingPower: 100n }]],
        [4, [{ address: v2, votingPower: 1n }]],
      ]),
    )
    const p = (h: number, a: Uint8Array) => schedule.at(h).validators.find((v) => nameOf(v.address) === nameOf(a))
    // NewValidatorSet: 0; the next height: 0 + 10 − 10 = 0.
    expect(p(1, v1)?.proposerPriority).toBe(0n)
    expect(p(2, v1)?.proposerPriority).toBe(0n)
    // Add val2 (100): −(110 + 110>>3) = −123; centre (avg −61 ⌊⌋): v1 62, v2 −61; increment: v1 72 →
    // proposer → −38, v2 39.
    expect(p(3, v1)?.proposerPriority).toBe(-38n)
    expect(p(3, v2)?.proposerPriority).toBe(39n)
    expect(nameOf(schedule.at(3).proposer.address)).toBe('val1')
    // val2 → 1: spread 77 > 2 × 11: ÷4 → v1 −9, v2 9; increment: v1 1, v2 10 → proposer → −1.
    expect(p(4, v1)?.proposerPriority).toBe(1n)
    expect(p(4, v2)?.proposerPriority).toBe(-1n)
    expect(nameOf(schedule.at(4).proposer.address)).toBe('val2')
  })
})

describe('ValidatorSchedule', () => {
  const genesis = vals([
    ['a', 10],
    ['b', 10],
    ['c', 10],
    ['d', 10],
  ])

  it('applies changes at their height of effect, not before', () => {
    const s = new ValidatorSchedule(genesis)
    s.record(5, vals([['e', 10]]))
    expect(s.at(4).indexOf(addr('e'))).toBe(-1)
    expect(s.at(5).indexOf(addr('e'))).toBeGreaterThanOrEqual(0)
    s.recordHeader(8, vals([['a', 0]]))
    expect(s.at(8).indexOf(addr('a'))).toBeGreaterThanOrEqual(0)
    expect(s.at(9).indexOf(addr('a'))).toBe(-1)
    expect(s.scannedTo).toBe(8)
  })

  it('is idempotent, refuses other changes for a recorded height and changes that do not apply', () => {
    const s = new ValidatorSchedule(genesis)
    expect(s.record(5, vals([['e', 10]]))).toBe(true)
    expect(s.record(5, vals([['e', 10]]))).toBe(false)
    expect(() => s.record(5, vals([['e', 11]]))).toThrow(/other validator changes/)
    expect(() => s.record(6, vals([['zz', 0]]))).toThrow(/not a validator/)
    expect(() => s.record(2, vals([['e', 1]]))).toThrow(/cannot take effect/)
  })

  it('recorded late (after sets were computed, across checkpoints), gives what a fresh schedule gives (property)', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
    const change = fc.record({
      height: fc.integer({ min: 3, max: 700 }),
      name: fc.constantFrom(...names),
      power: fc.integer({ min: 0, max: 30 }),
    })
    fc.assert(
      fc.property(fc.array(change, { maxLength: 6 }), fc.integer({ min: 1, max: 800 }), (raw, probe) => {
        // Keep the changes that apply, in height order, one per height.
        const byHeight = new Map<number, { address: Uint8Array; votingPower: bigint }[]>()
        const check = new ValidatorSchedule(genesis)
        for (const c of [...raw].sort((x, y) => x.height - y.height)) {
          if (byHeight.has(c.height)) continue
          const cs = [{ address: addr(c.name), votingPower: BigInt(c.power) }]
          try {
            check.record(c.height, cs)
            byHeight.set(c.height, cs)
          } catch {
            // does not apply (a removal of a non-member, an empty set)
          }
        }
        const fresh = new ValidatorSchedule(genesis, byHeight)
        const late = new ValidatorSchedule(genesis)
        late.at(probe)
        late.at(800)
        for (const [h, cs] of [...byHeight].sort((x, y) => x[0] - y[0])) late.record(h, cs)
        for (const h of [1, probe, 256, 257, 513, 800]) {
          expect(late.at(h).validators).toEqual(fresh.at(h).validators)
          expect(late.at(h).proposer).toEqual(fresh.at(h).proposer)
        }
      }),
      { numRuns: 40 },
    )
  })

  it('round-trips its record (what the engine persists)', () => {
    const s = new ValidatorSchedule(genesis)
    s.recordHeader(4, vals([['e', 10]]))
    s.recordHeader(
      9,
      vals([
        ['a', 0],
        ['b', 7],
      ]),
    )
    s.markScanned(12)
    const back = decodeScheduleRecord(encodeScheduleRecord(s.toRecord()))
    expect(back.scannedTo).toBe(12)
    const again = new ValidatorSchedule(genesis, back.changes)
    for (let h = 1; h <= 12; h++) expect(again.at(h).validators).toEqual(s.at(h).validators)
  })
})
