/** PQ signer keys (as DigestKeys, in the real ValidatorSigner) and commit certificates per scheme. */
import { keccak256, mlDsa65Keygen, mlDsa65Verify, privateKeyToAddress } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { describe, expect, it } from 'vitest'
import {
  BFT_PQ_CONTEXT,
  checkPqValidatorEntry,
  decodeSchemeCertificate,
  HYBRID_SIGNATURE_BYTES,
  parseSignatureScheme,
  pqAddress,
  type SignatureScheme,
  signatureBytes,
  splitHybridSignature,
  verifySchemeCertificate,
  verifyVoteSignature,
} from '../../../src/bft/pq/index.ts'
import {
  type CommitCertificate,
  decodeCertificate,
  encodeCertificate,
  MemorySignerState,
  MsgType,
  signDigest,
  type ValidatorSet,
  ValidatorSigner,
  voteDigest,
} from '../../../src/index.ts'
import { hybridDigestKey, mlDsaDigestKey } from '../../../src/privval/index.ts'
import { HYBRID_KEYS, HYBRID_SET, keyAt, MLDSA_KEYS, MLDSA_SET, PQ_CHAIN_ID, pqSeed, secpKey } from './pq-fixture.ts'

const HASH = keccak256(new TextEncoder().encode('block 9'))

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown, `expected ${code}`).toMatchObject({ name: 'CairnError', code })
  if (message !== undefined) expect((thrown as Error).message).toMatch(message)
}

describe('PQ digest keys', () => {
  it('a hybrid key signs as the secp256k1 key ‖ ML-DSA-65, known by the secp256k1 address', () => {
    const key = HYBRID_KEYS[0]!
    expect(key.scheme).toBe('hybrid')
    expect(key.address).toEqual(privateKeyToAddress(secpKey(0)))
    expect(key.pqPublicKey).toEqual(mlDsa65Keygen(pqSeed(0)).publicKey)
    const digest = keccak256(new Uint8Array([1]))
    const parts = splitHybridSignature(key.sign(digest))!
    expect(parts.secp).toEqual(signDigest(digest, secpKey(0)))
    expect(mlDsa65Verify(parts.pq, digest, key.pqPublicKey!, { context: BFT_PQ_CONTEXT })).toBe(true)
  })

  it('an ML-DSA key is known by keccak256(publicKey)[12:]', () => {
    const key = MLDSA_KEYS[0]!
    expect(key.scheme).toBe('ml-dsa-65')
    expect(key.address).toEqual(keccak256(key.pqPublicKey!).subarray(12))
    expect(key.address).toEqual(pqAddress(key.pqPublicKey!))
  })

  it('signs hedged with the injected randomness: reproducible with the same bytes, different with others', () => {
    const digest = keccak256(new Uint8Array([2]))
    const fixed = (b: number) => (n: number) => new Uint8Array(n).fill(b)
    const a = mlDsaDigestKey({ pqSeed: pqSeed(1) }, { random: fixed(1) })
    const b = mlDsaDigestKey({ pqSeed: pqSeed(1) }, { random: fixed(2) })
    const who = { address: a.address, pqPublicKey: a.pqPublicKey }
    expect(a.sign(digest)).toEqual(a.sign(digest))
    expect(a.sign(digest)).not.toEqual(b.sign(digest))
    expect(a.sign(digest)).not.toEqual(MLDSA_KEYS[1]!.sign(digest)) // deterministic = no randomness
    for (const sig of [a.sign(digest), b.sign(digest), MLDSA_KEYS[1]!.sign(digest)]) {
      expect(verifyVoteSignature('ml-dsa-65', digest, sig, who).ok).toBe(true)
    }
    const system = hybridDigestKey({ secpKey: rawDigestKey(secpKey(1)), pqSeed: pqSeed(1) })
    expect(system.sign(digest)).not.toEqual(system.sign(digest))
  })

  it('refuses a seed that is not 32 bytes', () => {
    expectCode(() => mlDsaDigestKey({ pqSeed: new Uint8Array(31) }), 'CONSENSUS_BFT_SIGNER_CONFIG', /32-byte seed/)
  })

  it('signs votes through the real ValidatorSigner (signer state and all)', () => {
    const key = HYBRID_KEYS[2]!
    const signer = new ValidatorSigner({ chainId: PQ_CHAIN_ID, key }, { state: new MemorySignerState() })
    const vote = { type: MsgType.PREVOTE, height: 3, round: 0, blockHash: HASH } as const
    const signed = signer.signVote(vote)
    if ('refused' in signed) throw new Error(signed.refused)
    expect(signed.signature).toHaveLength(HYBRID_SIGNATURE_BYTES)
    const who = { address: key.address, pqPublicKey: key.pqPublicKey }
    expect(verifyVoteSignature('hybrid', voteDigest(PQ_CHAIN_ID, vote), signed.signature, who).ok).toBe(true)
    // The double-sign protection still holds: another hash at the same step is refused.
    expect(signer.signVote({ ...vote, blockHash: keccak256(HASH) })).toHaveProperty('refused')
  })
})

describe('signature schemes and validator entries', () => {
  it('names three schemes and their signature lengths', () => {
    expect(['secp256k1', 'ml-dsa-65', 'hybrid'].map((s) => signatureBytes(parseSignatureScheme(s)))).toEqual([
      65, 3309, 3374,
    ])
    expectCode(() => parseSignatureScheme('dilithium'), 'CONSENSUS_BFT_INVALID_CONFIG', /unknown consensus signature/)
  })

  it('checks an entry carries the key its scheme needs', () => {
    const h = HYBRID_KEYS[0]!
    const m = MLDSA_KEYS[0]!
    checkPqValidatorEntry('hybrid', h)
    checkPqValidatorEntry('ml-dsa-65', m)
    checkPqValidatorEntry('secp256k1', { address: h.address, pqPublicKey: null })
    const bad = 'CONSENSUS_BFT_INVALID_VALIDATOR_SET'
    expectCode(() => checkPqValidatorEntry('hybrid', { address: h.address, pqPublicKey: null }), bad, /no ML-DSA-65/)
    expectCode(() => checkPqValidatorEntry('secp256k1', h), bad, /under the secp256k1 scheme/)
    expectCode(
      () => checkPqValidatorEntry('hybrid', { address: h.address, pqPublicKey: new Uint8Array(32) }),
      bad,
      /32 bytes, not 1952/,
    )
    // An ML-DSA-only validator's address must be its key's.
    expectCode(() => checkPqValidatorEntry('ml-dsa-65', h), bad, /keccak256\(pqPublicKey\)/)
  })
})

function certificate(scheme: SignatureScheme, indices: number[], round = 0): CommitCertificate {
  const keys = scheme === 'hybrid' ? HYBRID_KEYS : MLDSA_KEYS
  const set = scheme === 'hybrid' ? HYBRID_SET.set : MLDSA_SET.set
  const digest = voteDigest(PQ_CHAIN_ID, { type: MsgType.PRECOMMIT, height: 9, round, blockHash: HASH })
  return {
    height: 9,
    round,
    blockHash: HASH,
    signatures: indices.map((i) => ({ validatorIndex: i, signature: keyAt(keys, set, i).sign(digest) })),
  }
}

describe('commit certificates per scheme', () => {
  const cases: [SignatureScheme, ValidatorSet, (a: Uint8Array) => Uint8Array | null][] = [
    ['hybrid', HYBRID_SET.set, HYBRID_SET.pqKeyOf],
    ['ml-dsa-65', MLDSA_SET.set, MLDSA_SET.pqKeyOf],
  ]
  for (const [scheme, set, pqKeyOf] of cases) {
    it(`${scheme}: encodes with the existing encoder, decodes and verifies 3 of 4`, () => {
      const cert = certificate(scheme, [0, 1, 3])
      const bytes = encodeCertificate(cert)
      const back = decodeSchemeCertificate(bytes, scheme)
      expect(back).toEqual(cert)
      verifySchemeCertificate(back, scheme, set, pqKeyOf, PQ_CHAIN_ID)
      // Today's decoder assumes 65-byte signatures: the integration slice must pass it the scheme.
      expectCode(() => decodeCertificate(bytes), 'CONSENSUS_BFT_MALFORMED', /not 65 bytes/)
      expectCode(() => decodeSchemeCertificate(bytes, 'secp256k1'), 'CONSENSUS_BFT_MALFORMED', /not 65 bytes/)
    })

    it(`${scheme}: refuses 2 of 4, a tampered signature, another chain and a missing key`, () => {
      const invalid = 'CONSENSUS_BFT_INVALID_CERTIFICATE'
      expectCode(
        () => verifySchemeCertificate(certificate(scheme, [0, 2]), scheme, set, pqKeyOf, PQ_CHAIN_ID),
        invalid,
        /not more than 2\/3/,
      )
      const cert = certificate(scheme, [0, 1, 2])
      const tampered = Uint8Array.from(cert.signatures[1]!.signature)
      tampered[tampered.length - 100] = (tampered[tampered.length - 100] as number) ^ 0x10
      const bad = { ...cert, signatures: cert.signatures.map((s, i) => (i === 1 ? { ...s, signature: tampered } : s)) }
      expectCode(() => verifySchemeCertificate(bad, scheme, set, pqKeyOf, PQ_CHAIN_ID), invalid, /index 1 .*ML-DSA-65/)
      expectCode(() => verifySchemeCertificate(cert, scheme, set, pqKeyOf, PQ_CHAIN_ID + 1n), invalid, /index 0/)
      expectCode(() => verifySchemeCertificate(cert, scheme, set, () => null, PQ_CHAIN_ID), invalid, /no ML-DSA-65 key/)
    })
  }
})
