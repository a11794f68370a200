/**
 * CometBFT's proposer priority. Expected sequences derived by hand from the algorithm in
 * `types/validator_set.go` (IncrementProposerPriority: rescale, centre, then add power / pick the
 * highest / subtract the total), written out step by step in the comments.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey, ValidatorSet } from '../../src/index.ts'

/** Address with last byte `b` (so address order is numeric order). */
const addr = (b: number): Uint8Array => {
  const a = new Uint8Array(20)
  a[19] = b
  return a
}
const name = (_set: ValidatorSet, a: Uint8Array): string => String.fromCharCode(64 + (a[19] as number))
const prio = (set: ValidatorSet): Record<string, bigint> =>
  Object.fromEntries(set.validators.map((v) => [name(set, v.address), v.proposerPriority]))

/** The proposers of `count` consecutive heights starting from `set`. */
function sequence(set: ValidatorSet, count: number): string {
  const out: string[] = []
  let s = set
  for (let i = 0; i < count; i++) {
    out.push(name(s, s.proposer.address))
    s = s.copyIncrementProposerPriority(1)
  }
  return out.join('')
}

describe('ValidatorSet proposer priority (CometBFT)', () => {
  it('powers A=1 B=2 C=3: C B A C B C, repeating', () => {
    // create: 0,0,0 → +power 1,2,3 → C proposes → C=3-6=-3            (A1 B2 C-3)
    // +power A2 B4 C0 → B → B-2 (A2 B-2 C0); A3 B0 C3 → tie A/C, lower address A → A-3
    // A-2 B2 C6 → C → C0; A-1 B4 C3 → B → B-2; A0 B0 C6 → C → C0: back to 0,0,0.
    const set = ValidatorSet.create([
      { address: addr(1), votingPower: 1n },
      { address: addr(2), votingPower: 2n },
      { address: addr(3), votingPower: 3n },
    ])
    expect(prio(set)).toEqual({ A: 1n, B: 2n, C: -3n })
    expect(sequence(set, 12)).toBe('CBACBCCBACBC')
  })

  it('equal powers go round robin in address order', () => {
    const set = ValidatorSet.create([3, 1, 4, 2].map((b) => ({ address: addr(b), votingPower: 5n })))
    expect(sequence(set, 8)).toBe('ABCDABCD')
  })

  it('rescales priorities whose spread exceeds 2 × total power', () => {
    // powers 1,1 (total 2, window 4); priorities A=10 B=-10: spread 20 > 4, ratio ceil(20/4)=5 → A2 B-2;
    // centre (avg 0); +power A3 B-1 → A proposes → A1.
    const set = ValidatorSet.withPriorities([
      { address: addr(1), votingPower: 1n, proposerPriority: 10n },
      { address: addr(2), votingPower: 1n, proposerPriority: -10n },
    ]).copyIncrementProposerPriority(1)
    expect(name(set, set.proposer.address)).toBe('A')
    expect(prio(set)).toEqual({ A: 1n, B: -1n })
  })

  it('centres on the average rounded down (Go big.Int division), not truncated', () => {
    // powers 1,1,1; priorities A=-4 B=0 C=0: spread 4 <= 6; avg = floor(-4/3) = -2 → A-2 B2 C2;
    // +power A-1 B3 C3 → tie B/C, lower address B → B0. (Truncation would give B-1.)
    const set = ValidatorSet.withPriorities([
      { address: addr(1), votingPower: 1n, proposerPriority: -4n },
      { address: addr(2), votingPower: 1n, proposerPriority: 0n },
      { address: addr(3), votingPower: 1n, proposerPriority: 0n },
    ]).copyIncrementProposerPriority(1)
    expect(name(set, set.proposer.address)).toBe('B')
    expect(prio(set)).toEqual({ A: -1n, B: 0n, C: 3n })
  })

  it('orders validators by power then address, and picks round proposers by further increments', () => {
    const set = ValidatorSet.create([
      { address: addr(2), votingPower: 1n },
      { address: addr(1), votingPower: 5n },
      { address: addr(3), votingPower: 5n },
    ])
    expect(set.validators.map((v) => name(set, v.address))).toEqual(['A', 'C', 'B'])
    for (let r = 0; r < 5; r++) {
      const expected = r === 0 ? set.proposer : set.copyIncrementProposerPriority(r).proposer
      expect(set.proposerIndex(r)).toBe(set.indexOf(expected.address))
    }
  })

  it('rejects empty sets, zero power and duplicate addresses', () => {
    expect(() => ValidatorSet.create([])).toThrow(/at least one/)
    expect(() => ValidatorSet.create([{ address: addr(1), votingPower: 0n }])).toThrow(/voting power/)
    expect(() =>
      ValidatorSet.create([
        { address: addr(1), votingPower: 1n },
        { address: addr(1), votingPower: 1n },
      ]),
    ).toThrow(/twice/)
  })

  it('proposes in proportion to power over a full cycle (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }), (powers) => {
        let set = ValidatorSet.create(powers.map((p, i) => ({ address: addr(i + 1), votingPower: BigInt(p) })))
        const total = powers.reduce((a, b) => a + b, 0)
        const counts = new Map<string, number>()
        for (let i = 0; i < total * 4; i++) {
          const k = hashKey(set.proposer.address)
          counts.set(k, (counts.get(k) ?? 0) + 1)
          set = set.copyIncrementProposerPriority(1)
        }
        powers.forEach((p, i) => {
          expect(counts.get(hashKey(addr(i + 1))) ?? 0).toBe(p * 4)
        })
      }),
      { numRuns: 50 },
    )
  })
})
