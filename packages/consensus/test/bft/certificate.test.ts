/** Signed messages, commit certificates and duplicate-vote evidence: formats and verification. */
import { keccak256 } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { describe, expect, it } from 'vitest'
import {
  BFT_DOMAIN,
  type CommitCertificate,
  decodeCertificate,
  duplicateVoteEvidence,
  EvidencePool,
  encodeCertificate,
  recoverSigner,
  verifyCertificate,
  verifyDuplicateVoteEvidence,
  voteDigest,
} from '../../src/index.ts'
import { block, CHAIN_ID, PRECOMMIT, PREVOTE, SET, vote } from './fixture.ts'

const A = block('A')
const B = block('B')

function certificate(indices: number[], round = 1): CommitCertificate {
  return {
    height: 5,
    round,
    blockHash: A.hash,
    signatures: indices.map((i) => ({ validatorIndex: i, signature: vote(i, PRECOMMIT, 5, round, A.hash).signature })),
  }
}

describe('vote signatures', () => {
  it('sign keccak256(rlp(["cairn-bft-v1", chainId, height, round, type, blockHash])) and recover the validator', () => {
    const v = vote(2, PREVOTE, 9, 3, A.hash)
    const digest = keccak256(RLP.encode([new TextEncoder().encode(BFT_DOMAIN), CHAIN_ID, 9, 3, 1, A.hash]))
    expect(voteDigest(CHAIN_ID, v)).toEqual(digest)
    expect(v.signature).toHaveLength(65)
    expect([27, 28]).toContain(v.signature[64])
    expect(recoverSigner(digest, v.signature)).toEqual(SET.at(2)?.address)
    // A nil vote signs the empty string as its hash; another chain's digest recovers someone else.
    const nil = vote(2, PREVOTE, 9, 3, null)
    expect(voteDigest(CHAIN_ID, nil)).toEqual(
      keccak256(RLP.encode([new TextEncoder().encode(BFT_DOMAIN), CHAIN_ID, 9, 3, 1, new Uint8Array()])),
    )
    expect(recoverSigner(voteDigest(CHAIN_ID + 1n, v), v.signature)).not.toEqual(SET.at(2)?.address)
  })
})

describe('commit certificates', () => {
  it('round-trip through RLP and verify with > 2/3 of the power', () => {
    const cert = certificate([0, 2, 3])
    const decoded = decodeCertificate(encodeCertificate(cert))
    expect(decoded).toEqual(cert)
    expect(() => verifyCertificate(decoded, SET, CHAIN_ID)).not.toThrow()
  })

  it('refuse too little power, repeated or unsorted validators, foreign signatures and other chains', () => {
    expect(() => verifyCertificate(certificate([0, 2]), SET, CHAIN_ID)).toThrow(/not more than 2\/3/)
    const dup = certificate([0, 2, 3])
    dup.signatures[2] = dup.signatures[1] as (typeof dup.signatures)[number]
    expect(() => verifyCertificate(dup, SET, CHAIN_ID)).toThrow(/ascending/)
    const swapped = certificate([0, 2, 3])
    swapped.signatures[0] = {
      validatorIndex: 1,
      signature: (swapped.signatures[0] as { signature: Uint8Array }).signature,
    }
    expect(() => verifyCertificate(swapped, SET, CHAIN_ID)).toThrow(/not the validator's precommit/)
    const beyond = certificate([0, 1, 2])
    beyond.signatures[2] = {
      validatorIndex: 9,
      signature: (beyond.signatures[2] as { signature: Uint8Array }).signature,
    }
    expect(() => verifyCertificate(beyond, SET, CHAIN_ID)).toThrow(/no validator at index 9/)
    expect(() => verifyCertificate(certificate([0, 2, 3]), SET, CHAIN_ID + 1n)).toThrow(/precommit/)
    expect(() => verifyCertificate({ ...certificate([0, 2, 3]), blockHash: B.hash }, SET, CHAIN_ID)).toThrow()
  })

  it('refuse malformed bytes with a peer fault', () => {
    expect(() => decodeCertificate(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ fault: 'peer' }))
    expect(() => decodeCertificate(RLP.encode([1, 2, new Uint8Array(31), []]))).toThrow(/32 bytes/)
  })
})

describe('duplicate-vote evidence', () => {
  it('verifies on its own, in canonical order, and the pool keeps one per equivocation', () => {
    const a = vote(1, PRECOMMIT, 3, 0, A.hash)
    const b = vote(1, PRECOMMIT, 3, 0, null)
    const ev = duplicateVoteEvidence(SET.at(1)?.address as Uint8Array, a, b)
    expect(ev.voteA.blockHash).toBeNull()
    expect(duplicateVoteEvidence(ev.validator, b, a)).toEqual(ev)
    expect(() => verifyDuplicateVoteEvidence(ev, SET, CHAIN_ID)).not.toThrow()
    const pool = new EvidencePool()
    expect(pool.add(ev)).toBe(true)
    expect(pool.add(duplicateVoteEvidence(ev.validator, vote(1, PRECOMMIT, 3, 0, B.hash), a))).toBe(false)
    expect(pool.has(ev.validator, 3, 0, PRECOMMIT)).toBe(true)
    expect(pool.size).toBe(1)
  })

  it('refuses the same vote twice, different rounds, and votes signed by someone else', () => {
    const a = vote(1, PREVOTE, 3, 0, A.hash)
    const who = SET.at(1)?.address as Uint8Array
    expect(() => verifyDuplicateVoteEvidence({ validator: who, voteA: a, voteB: a }, SET, CHAIN_ID)).toThrow(
      /same block/,
    )
    expect(() =>
      verifyDuplicateVoteEvidence({ validator: who, voteA: a, voteB: vote(1, PREVOTE, 3, 1, B.hash) }, SET, CHAIN_ID),
    ).toThrow(/different heights, rounds or types/)
    expect(() =>
      verifyDuplicateVoteEvidence({ validator: who, voteA: a, voteB: vote(2, PREVOTE, 3, 0, B.hash) }, SET, CHAIN_ID),
    ).toThrow(/not signed/)
  })
})
