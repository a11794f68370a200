/**
 * The `ml-dsa-65` scheme's encodings: votes and proposals on the wire and in the WAL name their
 * signer (a 20-byte address after the signature), duplicate-vote evidence names the validator (a
 * sixth item), each checked for size before anything else and refused as a peer's fault when
 * wrong; secp256k1 and hybrid encodings are unchanged.
 */
import { keccak256 } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HYBRID_SIGNATURE_BYTES, signatureBytes } from '../../../src/bft/pq/index.ts'
import {
  ConsensusErrorCode,
  decodeEvidence,
  decodeWalEvent,
  decodeWire,
  duplicateVoteEvidence,
  EvidencePool,
  encodeEvidence,
  encodeWalEvent,
  encodeWire,
  MsgType,
  type SignedProposal,
  type SignedVote,
  ValidatorSet,
  type Vote,
  verifyDuplicateVoteEvidence,
  voteDigest,
} from '../../../src/index.ts'
import { MLDSA_KEYS, PQ_CHAIN_ID } from './pq-fixture.ts'

const FC = { seed: 0x5eed56, numRuns: 30 }
const ML_SIG = signatureBytes('ml-dsa-65')
const hashOf = (s: string) => keccak256(new TextEncoder().encode(s))
const key = (i: number) => MLDSA_KEYS[i]!
const SET = ValidatorSet.create(
  MLDSA_KEYS.map((k) => ({ address: k.address, votingPower: 1n, pqPublicKey: k.pqPublicKey })),
  'ml-dsa-65',
)

function signed(i: number, vote: Vote): SignedVote {
  return { ...vote, signature: key(i).sign(voteDigest(PQ_CHAIN_ID, vote)), validator: key(i).address }
}

const VOTE = signed(1, { type: MsgType.PRECOMMIT, height: 9, round: 2, blockHash: hashOf('block 9') })
const PROPOSAL: SignedProposal = {
  height: 9,
  round: 2,
  polRound: -1,
  blockHash: hashOf('block 9'),
  block: new Uint8Array([1, 2, 3]),
  signature: new Uint8Array(ML_SIG).fill(7),
  validator: key(2).address,
}

function codeOf(fn: () => unknown): { code?: string; fault?: string; message?: string } {
  try {
    fn()
  } catch (err) {
    return err as { code?: string; fault?: string; message?: string }
  }
  return {}
}

describe('ml-dsa-65 on the wire', () => {
  it('a vote and a proposal round-trip with their signer, as one more field', () => {
    const vote = encodeWire({ kind: 'vote', vote: VOTE }, 3)
    expect(decodeWire(vote, 'ml-dsa-65')).toEqual({ kind: 'vote', vote: VOTE })
    expect((RLP.decode(vote) as unknown[]).length).toBe(8)
    expect((RLP.decode(vote) as Uint8Array[])[7]).toEqual(key(1).address)
    const proposal = encodeWire({ kind: 'proposal', proposal: PROPOSAL }, 4)
    expect(decodeWire(proposal, 'ml-dsa-65')).toEqual({ kind: 'proposal', proposal: PROPOSAL })
    expect((RLP.decode(proposal) as unknown[]).length).toBe(9)
  })

  it('refuses a vote or a proposal with no signer, a signer of another size, or a signature of another size', () => {
    const { validator: _v, ...unnamedVote } = VOTE
    const { validator: _p, ...unnamedProposal } = PROPOSAL
    const cases: [Uint8Array, RegExp][] = [
      [encodeWire({ kind: 'vote', vote: unnamedVote }, 1), /vote: 8 fields expected/],
      [encodeWire({ kind: 'proposal', proposal: unnamedProposal }, 1), /proposal: 9 fields expected/],
      [encodeWire({ kind: 'vote', vote: { ...VOTE, validator: new Uint8Array(19) } }, 1), /bad validator address/],
      [encodeWire({ kind: 'vote', vote: { ...VOTE, validator: new Uint8Array(32) } }, 1), /bad validator address/],
      [encodeWire({ kind: 'proposal', proposal: { ...PROPOSAL, validator: new Uint8Array(0) } }, 1), /bad validator/],
      [encodeWire({ kind: 'vote', vote: { ...VOTE, signature: new Uint8Array(65) } }, 1), /bad signature/],
      [
        encodeWire({ kind: 'vote', vote: { ...VOTE, signature: new Uint8Array(HYBRID_SIGNATURE_BYTES) } }, 1),
        /bad signature/,
      ],
    ]
    for (const [bytes, message] of cases) {
      expect(codeOf(() => decodeWire(bytes, 'ml-dsa-65'))).toMatchObject({
        code: ConsensusErrorCode.BFT_MALFORMED,
        fault: 'peer',
        message: expect.stringMatching(message),
      })
    }
  })

  it('refuses any signer length but 20 and any signature length but 3,309 (seeded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 4000 }), (addrLen, sigLen) => {
        fc.pre(addrLen !== 20 || sigLen !== ML_SIG)
        const bytes = encodeWire(
          { kind: 'vote', vote: { ...VOTE, validator: new Uint8Array(addrLen), signature: new Uint8Array(sigLen) } },
          1,
        )
        expect(codeOf(() => decodeWire(bytes, 'ml-dsa-65')).code).toBe(ConsensusErrorCode.BFT_MALFORMED)
      }),
      FC,
    )
  })

  it('leaves secp256k1 and hybrid votes byte for byte as they were, and refuses a named one there', () => {
    const sig = new Uint8Array(65).fill(5)
    const secp = { type: MsgType.PREVOTE, height: 3, round: 0, blockHash: null, signature: sig } as const
    expect(encodeWire({ kind: 'vote', vote: secp }, 9)).toEqual(
      RLP.encode([2, 9, MsgType.PREVOTE, 3, 0, new Uint8Array(), sig]),
    )
    const named = encodeWire({ kind: 'vote', vote: { ...secp, validator: key(0).address } }, 9)
    expect(codeOf(() => decodeWire(named, 'secp256k1')).message).toMatch(/vote: 7 fields expected/)
    const hybrid = encodeWire({ kind: 'vote', vote: { ...VOTE, signature: new Uint8Array(HYBRID_SIGNATURE_BYTES) } }, 9)
    expect(codeOf(() => decodeWire(hybrid, 'hybrid')).message).toMatch(/vote: 7 fields expected/)
  })

  it('logs the signer in the WAL under ml-dsa-65 and refuses a record without one', () => {
    const vote = { kind: 'vote', vote: VOTE } as const
    expect(decodeWalEvent(encodeWalEvent(vote), 'ml-dsa-65')).toEqual(vote)
    const proposal = { kind: 'proposal', proposal: PROPOSAL } as const
    expect(decodeWalEvent(encodeWalEvent(proposal), 'ml-dsa-65')).toEqual(proposal)
    const { validator: _, ...unnamed } = VOTE
    expect(() => decodeWalEvent(encodeWalEvent({ kind: 'vote', vote: unnamed }), 'ml-dsa-65')).toThrow()
    expect(() =>
      decodeWalEvent(encodeWalEvent({ kind: 'vote', vote: { ...VOTE, validator: new Uint8Array(21) } }), 'ml-dsa-65'),
    ).toThrow(/20-byte address/)
  })
})

describe('ml-dsa-65 duplicate-vote evidence', () => {
  const a = signed(1, { type: MsgType.PREVOTE, height: 5, round: 0, blockHash: hashOf('a') })
  const b = signed(1, { type: MsgType.PREVOTE, height: 5, round: 0, blockHash: hashOf('b') })
  const EV = duplicateVoteEvidence(key(1).address, a, b)

  it('names the validator in a sixth item, decodes it and verifies against the set of its height', () => {
    const bytes = encodeEvidence(EV)
    const items = RLP.decode(bytes) as unknown[]
    expect(items.length).toBe(6)
    expect(items[5]).toEqual(key(1).address)
    const back = decodeEvidence(bytes, PQ_CHAIN_ID, 'ml-dsa-65')
    expect(back.validator).toEqual(key(1).address)
    expect(back.voteA.signature.length).toBe(ML_SIG)
    expect(() => verifyDuplicateVoteEvidence(back, SET, PQ_CHAIN_ID)).not.toThrow()
    const pool = new EvidencePool({ chainId: PQ_CHAIN_ID, scheme: 'ml-dsa-65' }, { validatorSetAt: () => SET })
    expect(pool.submit(back, 6)).toBe('added')
  })

  it('refuses evidence that claims another validator, a non-member, or carries a flipped signature', () => {
    const claimOther = { ...EV, validator: key(2).address }
    expect(codeOf(() => verifyDuplicateVoteEvidence(claimOther, SET, PQ_CHAIN_ID))).toMatchObject({
      code: ConsensusErrorCode.BFT_INVALID_EVIDENCE,
      fault: 'peer',
      message: expect.stringMatching(/not signed by the validator/),
    })
    // Through the bytes too: the sixth item rewritten to validator 2.
    const items = RLP.decode(encodeEvidence(EV)) as Uint8Array[]
    const rewritten = decodeEvidence(RLP.encode([...items.slice(0, 5), key(2).address]), PQ_CHAIN_ID, 'ml-dsa-65')
    expect(() => verifyDuplicateVoteEvidence(rewritten, SET, PQ_CHAIN_ID)).toThrow(/not signed by the validator/)
    const stranger = { ...EV, validator: new Uint8Array(20).fill(3) }
    expect(() => verifyDuplicateVoteEvidence(stranger, SET, PQ_CHAIN_ID)).toThrow(/is not a validator/)
    const sig = b.signature.slice()
    sig[2000] = (sig[2000] as number) ^ 0x80
    const flipped = { ...EV, voteB: { ...b, signature: sig } }
    expect(() => verifyDuplicateVoteEvidence(flipped, SET, PQ_CHAIN_ID)).toThrow(/pq|ML-DSA/i)
    const pool = new EvidencePool({ chainId: PQ_CHAIN_ID, scheme: 'ml-dsa-65' }, { validatorSetAt: () => SET })
    expect(() => pool.submit(claimOther, 6)).toThrow(/not signed by the validator/)
    expect(pool.pending(10)).toEqual([])
  })

  it('refuses bytes without the validator, with one of another size, or with signatures of another size', () => {
    const items = RLP.decode(encodeEvidence(EV)) as unknown[]
    const cases: [Uint8Array, RegExp][] = [
      [RLP.encode(items.slice(0, 5) as Uint8Array[]), /expected a list of 6 items/],
      [RLP.encode([...(items.slice(0, 5) as Uint8Array[]), new Uint8Array(19)]), /bad validator address/],
      [
        RLP.encode([
          ...(items.slice(0, 3) as Uint8Array[]),
          [hashOf('a'), new Uint8Array(65)],
          items[4] as Uint8Array[],
          key(1).address,
        ]),
        /bad signature/,
      ],
    ]
    for (const [bytes, message] of cases) {
      expect(codeOf(() => decodeEvidence(bytes, PQ_CHAIN_ID, 'ml-dsa-65'))).toMatchObject({
        code: ConsensusErrorCode.BFT_MALFORMED,
        fault: 'peer',
        message: expect.stringMatching(message),
      })
    }
    // ml-dsa-65 evidence read under secp256k1 or hybrid rules: the item count is wrong.
    expect(() => decodeEvidence(encodeEvidence(EV), PQ_CHAIN_ID, 'hybrid')).toThrow(/expected a list of 5 items/)
  })

  it('leaves secp256k1 and hybrid evidence at five items', () => {
    const ofLength = (n: number, hash: string): SignedVote => ({
      type: MsgType.PREVOTE,
      height: 5,
      round: 0,
      blockHash: hashOf(hash),
      signature: new Uint8Array(n).fill(1),
    })
    for (const n of [65, HYBRID_SIGNATURE_BYTES]) {
      const ev = duplicateVoteEvidence(key(1).address, ofLength(n, 'a'), ofLength(n, 'b'))
      expect((RLP.decode(encodeEvidence(ev)) as unknown[]).length).toBe(5)
    }
  })
})
