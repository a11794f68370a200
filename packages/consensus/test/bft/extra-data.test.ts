/** The BFT extra data: version 1 (no evidence) unchanged, version 2 carries an evidence list; the wire's evidence kind. */
import { RLP } from '@ethereumjs/rlp'
import { describe, expect, it } from 'vitest'
import {
  BFT_EXTRA_VERSION,
  BFT_EXTRA_VERSION_EVIDENCE,
  BFT_EXTRA_VERSION_VALIDATORS,
  bftExtraEvidence,
  decodeBftExtra,
  decodeEvidence,
  decodeWire,
  duplicateVoteEvidence,
  EvidencePool,
  encodeBftExtra,
  encodeEvidence,
  encodeEvidenceList,
  encodeWire,
  MAX_BLOCK_EVIDENCE,
} from '../../src/index.ts'
import { block, CHAIN_ID, PREVOTE, SET, vote } from './fixture.ts'

const A = block('block A')
const B = block('block B')
const who = (i: number): Uint8Array => SET.at(i)?.address as Uint8Array
const equivocation = (i: number, height: number) =>
  duplicateVoteEvidence(who(i), vote(i, PREVOTE, height, 0, A.hash), vote(i, PREVOTE, height, 0, B.hash))

describe('BFT extra data', () => {
  it("version 3 carries the parent's validator changes (with or without evidence); other versions stay as they were", () => {
    const changes = [
      { address: who(1), votingPower: 0n },
      { address: new Uint8Array(20).fill(7), votingPower: 300n },
    ]
    const bytes = encodeBftExtra({ round: 2, parentCertificate: null, validatorChanges: changes })
    const d = RLP.decode(bytes) as unknown[]
    expect(d[0]).toEqual(Uint8Array.of(BFT_EXTRA_VERSION_VALIDATORS))
    expect(d).toHaveLength(5)
    expect(decodeBftExtra(bytes)).toEqual({ round: 2, parentCertificate: null, validatorChanges: changes })
    const evidence = encodeEvidenceList([equivocation(1, 3)])
    const both = decodeBftExtra(
      encodeBftExtra({ round: 0, parentCertificate: null, evidence, validatorChanges: changes }),
    )
    expect(both.evidence).toEqual(evidence)
    expect(both.validatorChanges).toEqual(changes)
    // No changes: version 1 or 2 as before.
    expect(encodeBftExtra({ round: 3, parentCertificate: null, validatorChanges: [] })).toEqual(
      RLP.encode([BFT_EXTRA_VERSION, 3, new Uint8Array()]),
    )
    // Version 3 with an empty list, a short address or a power with a leading zero is refused.
    const bad = (list: unknown) =>
      RLP.encode([BFT_EXTRA_VERSION_VALIDATORS, 0, new Uint8Array(), new Uint8Array(), list] as never)
    expect(() => decodeBftExtra(bad([]))).toThrow(/validator changes/)
    expect(() => decodeBftExtra(bad([[new Uint8Array(19), Uint8Array.of(1)]]))).toThrow(/validator changes/)
    expect(() => decodeBftExtra(bad([[new Uint8Array(20), Uint8Array.of(0, 1)]]))).toThrow(/validator changes/)
  })

  it('a block without evidence stays version 1, byte for byte; version 1 decodes with no evidence', () => {
    const bytes = encodeBftExtra({ round: 3, parentCertificate: null })
    expect(bytes).toEqual(RLP.encode([BFT_EXTRA_VERSION, 3, new Uint8Array()]))
    expect(encodeBftExtra({ round: 3, parentCertificate: null, evidence: new Uint8Array() })).toEqual(bytes)
    const extra = decodeBftExtra(Uint8Array.from(Buffer.from('c3018080', 'hex')))
    expect(extra).toEqual({ round: 0, parentCertificate: null })
    expect(bftExtraEvidence(extra, CHAIN_ID)).toEqual([])
  })

  it('version 2 carries the evidence list; it round-trips with the validator recovered', () => {
    const list = [equivocation(1, 3), equivocation(2, 4)]
    const bytes = encodeBftExtra({ round: 1, parentCertificate: null, evidence: encodeEvidenceList(list) })
    const d = RLP.decode(bytes) as Uint8Array[]
    expect(d.length).toBe(4)
    expect(d[0]).toEqual(Uint8Array.of(BFT_EXTRA_VERSION_EVIDENCE))
    const extra = decodeBftExtra(bytes)
    expect(extra.round).toBe(1)
    expect(bftExtraEvidence(extra, CHAIN_ID)).toEqual(list)
  })

  it('refuses a version with the wrong number of fields, an empty version-2 list, and too many pieces', () => {
    const ev = encodeEvidenceList([equivocation(1, 3)])
    expect(() => decodeBftExtra(RLP.encode([1, 0, new Uint8Array(), ev]))).toThrow(/unknown version/)
    expect(() => decodeBftExtra(RLP.encode([2, 0, new Uint8Array()]))).toThrow(/unknown version/)
    expect(() => decodeBftExtra(RLP.encode([3, 0, new Uint8Array(), ev]))).toThrow(/unknown version/)
    expect(() => decodeBftExtra(RLP.encode([2, 0, new Uint8Array(), new Uint8Array()]))).toThrow(/evidence/)
    const many = Array.from({ length: MAX_BLOCK_EVIDENCE + 1 }, (_, i) => equivocation(1, i + 1))
    const extra = decodeBftExtra(
      encodeBftExtra({ round: 0, parentCertificate: null, evidence: encodeEvidenceList(many) }),
    )
    expect(() => bftExtraEvidence(extra, CHAIN_ID)).toThrow(/more than/)
  })
})

describe('the evidence wire message', () => {
  it('round-trips; a peer decodes and verifies what it carries', () => {
    const ev = equivocation(1, 3)
    const msg = decodeWire(encodeWire({ kind: 'evidence', evidence: encodeEvidence(ev) }, 7))
    expect(msg.kind).toBe('evidence')
    const back = decodeEvidence((msg as { evidence: Uint8Array }).evidence, CHAIN_ID)
    expect(back).toEqual(ev)
    const pool = new EvidencePool({ chainId: CHAIN_ID }, { validatorSetAt: () => SET })
    expect(pool.submit(back, 5)).toBe('added')
    expect(() => decodeWire(RLP.encode([5, 0]))).toThrow(/not a list|fields/)
  })
})
