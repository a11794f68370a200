/** The evidence pool: verification, deduplication, the age limit, the bound, commitment, and the block encoding. */
import { describe, expect, it } from 'vitest'
import {
  decodeEvidenceList,
  duplicateVoteEvidence,
  EvidencePool,
  encodeEvidenceList,
  ValidatorSet,
} from '../../src/index.ts'
import { ADDRESSES, block, CHAIN_ID, PRECOMMIT, PREVOTE, SET, vote } from './fixture.ts'

const A = block('block A')
const B = block('block B')
const who = (i: number): Uint8Array => SET.at(i)?.address as Uint8Array

function equivocation(i: number, height: number, round = 0, type: 1 | 2 = PREVOTE) {
  return duplicateVoteEvidence(who(i), vote(i, type, height, round, A.hash), vote(i, type, height, round, B.hash))
}

function pool(
  opts: { maxPending?: number; maxAgeHeights?: number } = {},
  setAt: (h: number) => ValidatorSet = () => SET,
) {
  return new EvidencePool({ chainId: CHAIN_ID, ...opts }, { validatorSetAt: setAt })
}

describe('EvidencePool', () => {
  it('verifies and keeps one piece per equivocation, whatever pair proves it', () => {
    const p = pool()
    expect(p.submit(equivocation(1, 3), 5)).toBe('added')
    const other = duplicateVoteEvidence(who(1), vote(1, PREVOTE, 3, 0, null), vote(1, PREVOTE, 3, 0, A.hash))
    expect(p.submit(other, 5)).toBe('duplicate')
    expect(p.add(other)).toBe(false)
    expect(p.has(who(1), 3, 0, PREVOTE)).toBe(true)
    expect(p.has(who(1), 3, 0, PRECOMMIT)).toBe(false)
    expect(p.pending()).toEqual([equivocation(1, 3)])
  })

  it('refuses forged signatures, a validator outside the set of that height, and evidence too old; defers the future', () => {
    const p = pool({ maxAgeHeights: 10 }, (h) =>
      h === 4 ? ValidatorSet.create(ADDRESSES.slice(0, 3).map((address) => ({ address, votingPower: 1n }))) : SET,
    )
    const forged = { ...equivocation(1, 3), validator: who(2) }
    expect(() => p.submit(forged, 5)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_BFT_INVALID_EVIDENCE', fault: 'peer' }),
    )
    const outsider = SET.indexOf(ADDRESSES[3] as Uint8Array)
    expect(() => p.submit(equivocation(outsider, 4), 5)).toThrow(/is not a validator/)
    expect(() => p.submit(equivocation(1, 3), 20)).toThrow(/older than 10 heights/)
    expect(p.submit(equivocation(1, 6), 5)).toBe('future')
    expect(p.size).toBe(0)
  })

  it('is bounded, hands out the oldest first, forgets committed evidence only once it ages out', () => {
    const p = pool({ maxPending: 2, maxAgeHeights: 10 })
    expect(p.submit(equivocation(0, 1), 5)).toBe('added')
    expect(p.submit(equivocation(1, 2), 5)).toBe('added')
    expect(p.submit(equivocation(2, 3), 5)).toBe('full')
    expect(p.pending(1)).toEqual([equivocation(0, 1)])
    p.markCommitted([equivocation(0, 1)], 6)
    expect(p.size).toBe(1)
    expect(p.isCommitted(equivocation(0, 1))).toBe(true)
    expect(p.submit(equivocation(0, 1), 7)).toBe('committed') // gossiped again: not brought back
    expect(p.add(equivocation(0, 1))).toBe(false)
    p.prune(12) // floor 2: height 1 ages out, height 2 stays
    expect(p.isCommitted(equivocation(0, 1))).toBe(false)
    expect(p.pending()).toEqual([equivocation(1, 2)])
    p.prune(13)
    expect(p.size).toBe(0)
  })

  it('encodes a block evidence list in RLP and decodes it back; refuses junk and repeats', () => {
    const list = [equivocation(0, 1), equivocation(2, 4, 3, PRECOMMIT)]
    const bytes = encodeEvidenceList(list)
    expect(decodeEvidenceList(bytes, CHAIN_ID)).toEqual(list)
    expect(decodeEvidenceList(encodeEvidenceList([]), CHAIN_ID)).toEqual([])
    expect(() => decodeEvidenceList(new Uint8Array([0xff]), CHAIN_ID)).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_BFT_MALFORMED' }),
    )
    expect(() => decodeEvidenceList(encodeEvidenceList([list[0], list[0]] as never), CHAIN_ID)).toThrow(/twice/)
    expect(() => decodeEvidenceList(bytes, CHAIN_ID, 1)).toThrow(/more than 1/)
  })

  it('keeps the old no-argument use: add without verification', () => {
    const p = new EvidencePool()
    expect(p.add(equivocation(1, 3))).toBe(true)
    expect(p.add(equivocation(1, 3))).toBe(false)
    expect(() => p.submit(equivocation(2, 3), 5)).toThrow(expect.objectContaining({ fault: 'internal' }))
  })
})
