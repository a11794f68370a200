/** Vote signatures per scheme: hybrid and ML-DSA-65 verify, and every kind of forgery is refused. */
import { mlDsa65Keygen, mlDsa65Sign } from '@cairn/crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BFT_PQ_CONTEXT,
  HYBRID_SIGNATURE_BYTES,
  joinHybridSignature,
  splitHybridSignature,
  type VoteSignatureFailure,
  verifyVoteSignature,
} from '../../../src/bft/pq/index.ts'
import { MsgType, proposalDigest, recoverSigner, signDigest, type Vote, voteDigest } from '../../../src/index.ts'
import { HYBRID_KEYS, MLDSA_KEYS, PQ_CHAIN_ID, pqSeed, secpKey } from './pq-fixture.ts'

// ML-DSA-65 signs in a few ms and verifies in ~1 ms once warm (bench/pq-votes.ts): modest runs, fixed seed.
const FC = { seed: 0xc0ffee, numRuns: 20 }
const identity = (i: number, keys = HYBRID_KEYS) => ({
  address: keys[i]!.address,
  pqPublicKey: keys[i]!.pqPublicKey,
})

const voteArb = fc.record({
  type: fc.constantFrom(MsgType.PREVOTE, MsgType.PRECOMMIT),
  height: fc.integer({ min: 1, max: 2 ** 40 }),
  round: fc.integer({ min: 0, max: 1000 }),
  blockHash: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null }),
}) as fc.Arbitrary<Vote>

const V: Vote = { type: MsgType.PRECOMMIT, height: 7, round: 1, blockHash: new Uint8Array(32).fill(0xab) }
const DIGEST = voteDigest(PQ_CHAIN_ID, V)
const SIG0 = HYBRID_KEYS[0]!.sign(DIGEST)
const PARTS0 = splitHybridSignature(SIG0)!

function reasonOf(check: ReturnType<typeof verifyVoteSignature>): VoteSignatureFailure | 'ok' {
  return check.ok ? 'ok' : check.reason
}

describe('hybrid vote signatures', () => {
  it('are 65 + 3,309 bytes and verify for any vote of any validator (property)', () => {
    fc.assert(
      fc.property(voteArb, fc.integer({ min: 0, max: 3 }), (vote, i) => {
        const digest = voteDigest(PQ_CHAIN_ID, vote)
        const sig = HYBRID_KEYS[i]!.sign(digest)
        expect(sig).toHaveLength(HYBRID_SIGNATURE_BYTES)
        expect(reasonOf(verifyVoteSignature('hybrid', digest, sig, identity(i)))).toBe('ok')
        // The secp256k1 part alone is today's signature: the recover path finds the validator.
        expect(recoverSigner(digest, sig.subarray(0, 65))).toEqual(HYBRID_KEYS[i]!.address)
      }),
      FC,
    )
  })

  it('refuse any byte flipped in either part (property)', () => {
    const secpByte = fc.integer({ min: 0, max: 64 })
    const pqByte = fc.integer({ min: 65, max: HYBRID_SIGNATURE_BYTES - 1 })
    fc.assert(
      fc.property(fc.oneof(secpByte, pqByte), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bad = Uint8Array.from(SIG0)
        bad[at] = (bad[at] as number) ^ x
        const reason = reasonOf(verifyVoteSignature('hybrid', DIGEST, bad, identity(0)))
        if (at < 65) expect(['secp-unrecoverable', 'secp-wrong-signer']).toContain(reason)
        else expect(reason).toBe('pq-invalid')
      }),
      { ...FC, numRuns: 300 },
    )
  })

  it('refuse the secp256k1 part alone, the ML-DSA part alone, or either with the other zeroed', () => {
    const { secp, pq } = PARTS0
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, secp, identity(0)))).toBe('wrong-length')
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, pq, identity(0)))).toBe('wrong-length')
    const secpOnly = joinHybridSignature(secp, new Uint8Array(pq.length))
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, secpOnly, identity(0)))).toBe('pq-invalid')
    const pqOnly = joinHybridSignature(new Uint8Array(65), pq)
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, pqOnly, identity(0)))).toBe('secp-unrecoverable')
    // Each part is valid on its own under its own scheme: the hybrid needs both.
    expect(reasonOf(verifyVoteSignature('secp256k1', DIGEST, secp, identity(0)))).toBe('ok')
  })

  it("refuse another validator's ML-DSA part, and a signature checked against another validator's key (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), voteArb, (i, shift, vote) => {
        const j = (i + shift) % 4
        const digest = voteDigest(PQ_CHAIN_ID, vote)
        const mine = splitHybridSignature(HYBRID_KEYS[i]!.sign(digest))!
        const theirs = splitHybridSignature(HYBRID_KEYS[j]!.sign(digest))!
        // i's secp256k1 part with j's ML-DSA part, presented as i's.
        const spliced = joinHybridSignature(mine.secp, theirs.pq)
        expect(reasonOf(verifyVoteSignature('hybrid', digest, spliced, identity(i)))).toBe('pq-invalid')
        // i's whole signature, checked with i's address but j's registered ML-DSA key.
        const wrongKey = { address: HYBRID_KEYS[i]!.address, pqPublicKey: HYBRID_KEYS[j]!.pqPublicKey }
        const whole = joinHybridSignature(mine.secp, mine.pq)
        expect(reasonOf(verifyVoteSignature('hybrid', digest, whole, wrongKey))).toBe('pq-invalid')
        // i's whole signature presented as j's.
        expect(reasonOf(verifyVoteSignature('hybrid', digest, whole, identity(j)))).toBe('secp-wrong-signer')
      }),
      { ...FC, numRuns: 12 },
    )
  })

  it('refuse a signature of another chain, another message type, or another ML-DSA context', () => {
    const otherChain = voteDigest(PQ_CHAIN_ID + 1n, V)
    expect(reasonOf(verifyVoteSignature('hybrid', otherChain, SIG0, identity(0)))).toBe('secp-wrong-signer')
    const asProposal = proposalDigest(PQ_CHAIN_ID, { height: 7, round: 1, polRound: -1, blockHash: V.blockHash! })
    expect(reasonOf(verifyVoteSignature('hybrid', asProposal, SIG0, identity(0)))).toBe('secp-wrong-signer')
    // A valid secp256k1 part for the right digest, an ML-DSA part under another FIPS 204 context.
    const { secretKey } = mlDsa65Keygen(pqSeed(0))
    for (const context of [new Uint8Array(0), new TextEncoder().encode('cairn-bft-v2')]) {
      const pq = mlDsa65Sign(DIGEST, secretKey, { context, randomness: false })
      const sig = joinHybridSignature(signDigest(DIGEST, secpKey(0)), pq)
      expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, sig, identity(0)))).toBe('pq-invalid')
    }
    const right = mlDsa65Sign(DIGEST, secretKey, { context: BFT_PQ_CONTEXT, randomness: false })
    expect(PARTS0.pq).toEqual(right)
  })

  it('refuse when the set has no ML-DSA key, or a malformed one, for the validator', () => {
    const noKey = { address: HYBRID_KEYS[0]!.address, pqPublicKey: null }
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, SIG0, noKey))).toBe('pq-key-missing')
    const shortKey = { address: HYBRID_KEYS[0]!.address, pqPublicKey: new Uint8Array(1951) }
    const check = verifyVoteSignature('hybrid', DIGEST, SIG0, shortKey)
    expect(check).toMatchObject({ ok: false, reason: 'pq-key-malformed' })
    expect(check.ok ? '' : check.message).toMatch(/1951 bytes, not 1952/)
  })
})

describe('ML-DSA-65 and secp256k1 vote signatures', () => {
  it('ML-DSA-65 alone verifies against the key, and refuses another key, chain or a flipped byte', () => {
    const sig = MLDSA_KEYS[1]!.sign(DIGEST)
    expect(sig).toHaveLength(3309)
    expect(reasonOf(verifyVoteSignature('ml-dsa-65', DIGEST, sig, identity(1, MLDSA_KEYS)))).toBe('ok')
    expect(reasonOf(verifyVoteSignature('ml-dsa-65', DIGEST, sig, identity(2, MLDSA_KEYS)))).toBe('pq-invalid')
    const other = voteDigest(PQ_CHAIN_ID + 1n, V)
    expect(reasonOf(verifyVoteSignature('ml-dsa-65', other, sig, identity(1, MLDSA_KEYS)))).toBe('pq-invalid')
    const bad = Uint8Array.from(sig)
    bad[100] = (bad[100] as number) ^ 1
    expect(reasonOf(verifyVoteSignature('ml-dsa-65', DIGEST, bad, identity(1, MLDSA_KEYS)))).toBe('pq-invalid')
    // A hybrid signature is not an ML-DSA-65 signature, nor the reverse.
    expect(reasonOf(verifyVoteSignature('ml-dsa-65', DIGEST, SIG0, identity(0)))).toBe('wrong-length')
    expect(reasonOf(verifyVoteSignature('hybrid', DIGEST, sig, identity(1, MLDSA_KEYS)))).toBe('wrong-length')
  })

  it('secp256k1 agrees with recoverSigner (the scheme of today) for any vote (property)', () => {
    fc.assert(
      fc.property(voteArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (vote, i, j) => {
        const digest = voteDigest(PQ_CHAIN_ID, vote)
        const sig = signDigest(digest, secpKey(i))
        const who = { address: HYBRID_KEYS[j]!.address, pqPublicKey: null }
        expect(verifyVoteSignature('secp256k1', digest, sig, who).ok).toBe(i === j)
      }),
      { ...FC, numRuns: 40 },
    )
  })

  it('uses an injected recover (a cache) for the secp256k1 part', () => {
    let calls = 0
    const recover = (d: Uint8Array, s: Uint8Array) => {
      calls++
      return recoverSigner(d, s)
    }
    expect(verifyVoteSignature('hybrid', DIGEST, SIG0, identity(0), { recover }).ok).toBe(true)
    expect(calls).toBe(1)
  })
})
