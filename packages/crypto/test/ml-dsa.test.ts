import { bytesToHex } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CryptoErrorCode,
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_DSA65_SIGNATURE_BYTES,
  mlDsa65Keygen,
  mlDsa65PublicKey,
  mlDsa65Sign,
  mlDsa65Verify,
  sha256,
} from '../src/index.ts'

// @noble/post-quantum's npm package ships no test vectors (they live in its repository: ACVP and
// Wycheproof), so this file pins a fixed-seed regression vector computed with @noble 0.7.1: a
// change of library version that changes key derivation or deterministic signing fails here.
const SEED = Uint8Array.from({ length: 32 }, (_, i) => i)
const MESSAGE = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i)
const CTX = new TextEncoder().encode('cairn-bft-v1')
const VECTOR = {
  publicKeyPrefix: '0x48683d91978e31eb3dddb8b0473482d2',
  publicKeySha256: '0xd666806e11cee19a7c989f7445f90dd419cf4d2d51db8c0fdb4c0f0a542238c9',
  secretKeySha256: '0x9f1e24f47795fe50040384e3d6183988047170fa2d866406b70fe0a3f8216063',
  /** Deterministic signature (`randomness: false`) of MESSAGE under CTX. */
  deterministicSigSha256: '0x738612bb8786be2f54ef52c9854dc7190f3a4cc7833f7d4215268660acfa8d1f',
  /** Hedged signature with the randomness 32 × 0x42. */
  hedgedSigSha256: '0x0d4c12c7470c19b5a2a074a59b2280dbbd5b3cdfc3ec1844a6fdf230063e3136',
}

const keys = mlDsa65Keygen(SEED)
const other = mlDsa65Keygen(new Uint8Array(32).fill(0xee))
const FC = { seed: 0x5eed56, numRuns: 8 }

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown, `expected ${code}`).toMatchObject({ name: 'CairnError', code, fault: 'caller' })
}

describe('ML-DSA-65', () => {
  it('has the FIPS 204 sizes', () => {
    expect(keys.publicKey.length).toBe(ML_DSA65_PUBLIC_KEY_BYTES)
    expect(keys.secretKey.length).toBe(ML_DSA65_SECRET_KEY_BYTES)
    expect(mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX }).length).toBe(ML_DSA65_SIGNATURE_BYTES)
    expect([ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SECRET_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES]).toEqual([1952, 4032, 3309])
  })

  it('matches the fixed-seed regression vector (keys, deterministic and hedged signatures)', () => {
    expect(bytesToHex(keys.publicKey.subarray(0, 16))).toBe(VECTOR.publicKeyPrefix)
    expect(bytesToHex(sha256(keys.publicKey))).toBe(VECTOR.publicKeySha256)
    expect(bytesToHex(sha256(keys.secretKey))).toBe(VECTOR.secretKeySha256)
    const det = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: false })
    expect(bytesToHex(sha256(det))).toBe(VECTOR.deterministicSigSha256)
    const hedged = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: new Uint8Array(32).fill(0x42) })
    expect(bytesToHex(sha256(hedged))).toBe(VECTOR.hedgedSigSha256)
  })

  it('derives the same keys from the same seed, and the public key from the secret key', () => {
    const again = mlDsa65Keygen(Uint8Array.from(SEED))
    expect(again.publicKey).toEqual(keys.publicKey)
    expect(again.secretKey).toEqual(keys.secretKey)
    expect(mlDsa65PublicKey(keys.secretKey)).toEqual(keys.publicKey)
    expect(other.publicKey).not.toEqual(keys.publicKey)
  })

  it('signs deterministically without randomness, and differently with fresh randomness', () => {
    const a = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: false })
    const b = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: false })
    expect(a).toEqual(b)
    const h1 = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX })
    const h2 = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX })
    expect(h1).not.toEqual(h2)
    for (const s of [a, h1, h2]) expect(mlDsa65Verify(s, MESSAGE, keys.publicKey, { context: CTX })).toBe(true)
  })

  it('round-trips any message and context, and refuses a wrong key, message or context (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (message, context, rnd) => {
          const sig = mlDsa65Sign(message, keys.secretKey, { context, randomness: rnd })
          expect(mlDsa65Verify(sig, message, keys.publicKey, { context })).toBe(true)
          expect(mlDsa65Verify(sig, message, other.publicKey, { context })).toBe(false)
          const otherMessage = Uint8Array.from([...message, 0])
          expect(mlDsa65Verify(sig, otherMessage, keys.publicKey, { context })).toBe(false)
          const otherContext = context.length === 0 ? CTX : context.subarray(1)
          expect(mlDsa65Verify(sig, message, keys.publicKey, { context: otherContext })).toBe(false)
        },
      ),
      FC,
    )
  })

  it('refuses a signature with any byte changed or of the wrong length', () => {
    const sig = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: false })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sig.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bad = Uint8Array.from(sig)
        bad[i] = (bad[i] as number) ^ x
        expect(mlDsa65Verify(bad, MESSAGE, keys.publicKey, { context: CTX })).toBe(false)
      }),
      { ...FC, numRuns: 24 },
    )
    expect(mlDsa65Verify(sig.subarray(1), MESSAGE, keys.publicKey, { context: CTX })).toBe(false)
    expect(mlDsa65Verify(Uint8Array.from([...sig, 0]), MESSAGE, keys.publicKey, { context: CTX })).toBe(false)
  })

  it('an empty context is not the Cairn context (domain separation)', () => {
    const sig = mlDsa65Sign(MESSAGE, keys.secretKey, { context: new Uint8Array(0) })
    expect(mlDsa65Verify(sig, MESSAGE, keys.publicKey, { context: new Uint8Array(0) })).toBe(true)
    expect(mlDsa65Verify(sig, MESSAGE, keys.publicKey, { context: CTX })).toBe(false)
  })

  it('throws typed errors for bad keys, seeds, contexts and randomness', () => {
    expectCode(() => mlDsa65Keygen(new Uint8Array(31)), CryptoErrorCode.INVALID_ARGUMENT)
    expectCode(
      () => mlDsa65Sign(MESSAGE, keys.secretKey.subarray(1), { context: CTX }),
      CryptoErrorCode.INVALID_PRIVATE_KEY,
    )
    expectCode(() => mlDsa65PublicKey(new Uint8Array(10)), CryptoErrorCode.INVALID_PRIVATE_KEY)
    expectCode(
      () => mlDsa65Sign(MESSAGE, keys.secretKey, { context: new Uint8Array(256) }),
      CryptoErrorCode.INVALID_ARGUMENT,
    )
    expectCode(
      () => mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX, randomness: new Uint8Array(16) }),
      CryptoErrorCode.INVALID_ARGUMENT,
    )
    const sig = mlDsa65Sign(MESSAGE, keys.secretKey, { context: CTX })
    expectCode(
      () => mlDsa65Verify(sig, MESSAGE, keys.publicKey.subarray(1), { context: CTX }),
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
  })
})
