/**
 * ML-DSA-65 (FIPS 204, security category 3) through `@noble/post-quantum`: key generation from a
 * 32-byte seed, signing and verification of byte strings under a FIPS 204 context string.
 *
 * Sizes: public key 1,952 B, secret key 4,032 B, signature 3,309 B. The context string (at most 255
 * bytes) is required here, so that no caller signs without domain separation; FIPS 204 binds it
 * into the signed message `M' = 0 ‖ len(ctx) ‖ ctx ‖ M`.
 *
 * Signing is hedged by default (FIPS 204's default: 32 fresh random bytes mixed into the nonce
 * derivation, so that fault and timing observations of one signature do not repeat); the caller may
 * pass its own 32 random bytes (injected randomness) or `false` for the deterministic variant (test
 * vectors, reproducible simulations). Either way a signature verifies the same. The library is pure
 * JavaScript and does not claim constant-time execution (its README, "Constant-timeness").
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js'
import { assertBytes, CryptoErrorCode, cryptoError } from './errors.ts'

/** Bytes of an ML-DSA-65 public key. */
export const ML_DSA65_PUBLIC_KEY_BYTES = 1952
/** Bytes of an ML-DSA-65 secret key (the expanded FIPS 204 encoding). */
export const ML_DSA65_SECRET_KEY_BYTES = 4032
/** Bytes of an ML-DSA-65 signature. */
export const ML_DSA65_SIGNATURE_BYTES = 3309
/** Bytes of the seed ML-DSA key generation takes (FIPS 204's ξ). */
export const ML_DSA65_SEED_BYTES = 32
/** Bytes of the hedging randomness of one signature (FIPS 204's `rnd`). */
export const ML_DSA65_RANDOMNESS_BYTES = 32
/** The longest FIPS 204 context string. */
export const ML_DSA_MAX_CONTEXT_BYTES = 255

/** An ML-DSA-65 key pair. */
export interface MlDsaKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface MlDsaSignOptions {
  /** The FIPS 204 context string (0..255 bytes), the same at verification. */
  context: Uint8Array
  /**
   * Hedging randomness: 32 bytes from the caller's random source; `false` signs deterministically.
   * Absent: 32 bytes from `crypto.getRandomValues`.
   */
  randomness?: Uint8Array | false
}

export interface MlDsaVerifyOptions {
  /** The FIPS 204 context string the signer used. */
  context: Uint8Array
}

function assertContext(context: unknown): asserts context is Uint8Array {
  assertBytes(context, 'context')
  if (context.length > ML_DSA_MAX_CONTEXT_BYTES) {
    throw cryptoError(
      CryptoErrorCode.INVALID_ARGUMENT,
      `an ML-DSA context string is at most ${ML_DSA_MAX_CONTEXT_BYTES} bytes, got ${context.length}`,
      { hint: 'use a short domain tag such as "cairn-bft-v1"' },
    )
  }
}

/**
 * The ML-DSA-65 key pair of a 32-byte seed (FIPS 204 `ML-DSA.KeyGen_internal(ξ)`): the same seed
 * always gives the same keys, so a validator stores the seed, not the 4 KB secret key.
 * @throws CairnError `CRYPTO_INVALID_ARGUMENT` when the seed is not 32 bytes
 * @example
 * const { publicKey, secretKey } = mlDsa65Keygen(seed32)
 */
export function mlDsa65Keygen(seed: Uint8Array): MlDsaKeyPair {
  assertBytes(seed, 'ML-DSA seed', ML_DSA65_SEED_BYTES)
  const { publicKey, secretKey } = ml_dsa65.keygen(seed)
  return { publicKey, secretKey }
}

/**
 * The public key of an ML-DSA-65 secret key.
 * @throws CairnError `CRYPTO_INVALID_PRIVATE_KEY` when the secret key is not 4,032 bytes
 */
export function mlDsa65PublicKey(secretKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, 'ML-DSA-65 secret key', ML_DSA65_SECRET_KEY_BYTES, CryptoErrorCode.INVALID_PRIVATE_KEY)
  return ml_dsa65.getPublicKey(secretKey)
}

/**
 * Signs `message` (any length; Cairn signs 32-byte digests) under `opts.context`: 3,309 bytes.
 * @throws CairnError `CRYPTO_INVALID_PRIVATE_KEY` (secret key not 4,032 bytes),
 * `CRYPTO_INVALID_ARGUMENT` (context over 255 bytes, randomness not 32 bytes)
 * @example
 * const sig = mlDsa65Sign(digest, secretKey, { context: utf8('cairn-bft-v1') })
 */
export function mlDsa65Sign(message: Uint8Array, secretKey: Uint8Array, opts: MlDsaSignOptions): Uint8Array {
  assertBytes(message, 'message')
  assertBytes(secretKey, 'ML-DSA-65 secret key', ML_DSA65_SECRET_KEY_BYTES, CryptoErrorCode.INVALID_PRIVATE_KEY)
  assertContext(opts.context)
  const randomness = opts.randomness
  if (randomness !== undefined && randomness !== false) {
    assertBytes(randomness, 'ML-DSA signing randomness', ML_DSA65_RANDOMNESS_BYTES)
  }
  return ml_dsa65.sign(message, secretKey, {
    context: opts.context,
    ...(randomness !== undefined ? { extraEntropy: randomness } : {}),
  })
}

/**
 * True when `signature` is an ML-DSA-65 signature of `message` under `publicKey` and
 * `opts.context`. A signature of the wrong length is false (it is the untrusted input).
 * @throws CairnError `CRYPTO_INVALID_PUBLIC_KEY` when the public key is not 1,952 bytes,
 * `CRYPTO_INVALID_ARGUMENT` when the context is over 255 bytes
 */
export function mlDsa65Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  opts: MlDsaVerifyOptions,
): boolean {
  assertBytes(message, 'message')
  assertBytes(publicKey, 'ML-DSA-65 public key', ML_DSA65_PUBLIC_KEY_BYTES, CryptoErrorCode.INVALID_PUBLIC_KEY)
  assertContext(opts.context)
  if (!(signature instanceof Uint8Array) || signature.length !== ML_DSA65_SIGNATURE_BYTES) return false
  return ml_dsa65.verify(signature, message, publicKey, { context: opts.context })
}
