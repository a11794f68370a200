/**
 * {@link DigestKey}s for the post-quantum schemes, so that the signers (`ValidatorSigner`, the
 * remote signer) hold them as they hold a secp256k1 key: `sign(digest)` returns the scheme's
 * signature, 3,309 bytes (ML-DSA-65) or 3,374 (hybrid), instead of 65.
 *
 * The ML-DSA key is derived from a 32-byte seed (FIPS 204 key generation is deterministic), so a
 * validator keeps the seed, as it keeps a secp256k1 private key. Signing is hedged by default: 32
 * bytes from the injected random source per signature (FIPS 204's default; the library is not
 * constant-time, and fresh randomness keeps repeated timing observations of one message
 * uncorrelated). Nothing in consensus needs byte-identical re-signatures: equivocation is a
 * different block hash, not a different signature. `signing: 'deterministic'` is for tests and
 * reproducible simulations.
 */
import { ML_DSA65_RANDOMNESS_BYTES, type MlDsaKeyPair, mlDsa65Keygen, mlDsa65Sign } from '@cairn/crypto'
import type { DigestKey } from '@cairn/keys'
import { CairnError } from '@cairn/utils'
import { joinHybridSignature } from '../bft/pq/hybrid.ts'
import { BFT_PQ_CONTEXT, pqAddress, type SignatureScheme } from '../bft/pq/scheme.ts'
import { ConsensusErrorCode } from '../errors.ts'

/** A {@link DigestKey} that says its scheme and, for a PQ scheme, its ML-DSA public key. */
export interface SchemeDigestKey extends DigestKey {
  readonly scheme: SignatureScheme
  /** The ML-DSA-65 public key (1,952 bytes) the validator registers; null for secp256k1. */
  readonly pqPublicKey: Uint8Array | null
}

export interface PqDigestKeyOptions {
  /** The 32-byte ML-DSA seed (FIPS 204's ξ). */
  pqSeed: Uint8Array
  /** `hedged` (default): fresh randomness per signature; `deterministic`: none (tests). */
  signing?: 'hedged' | 'deterministic'
}

export interface HybridDigestKeyOptions extends PqDigestKeyOptions {
  /** The validator's secp256k1 key: in this process (`rawDigestKey`) or in an HSM. */
  secpKey: DigestKey
}

export interface PqDigestKeyModules {
  /** Random bytes for hedged signing; defaults to `crypto.getRandomValues`. */
  random?: (length: number) => Uint8Array
}

function systemRandom(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

function keysOf(opts: PqDigestKeyOptions): MlDsaKeyPair {
  if (!(opts.pqSeed instanceof Uint8Array) || opts.pqSeed.length !== 32) {
    throw new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, 'an ML-DSA validator key needs a 32-byte seed', {
      fault: 'caller',
      hint: 'pass opts.pqSeed: 32 random bytes kept like a private key',
    })
  }
  return mlDsa65Keygen(opts.pqSeed)
}

function pqSigner(
  opts: PqDigestKeyOptions,
  modules: PqDigestKeyModules,
  secretKey: Uint8Array,
): (digest: Uint8Array) => Uint8Array {
  const random = modules.random ?? systemRandom
  const deterministic = opts.signing === 'deterministic'
  return (digest) =>
    mlDsa65Sign(digest, secretKey, {
      context: BFT_PQ_CONTEXT,
      randomness: deterministic ? false : random(ML_DSA65_RANDOMNESS_BYTES),
    })
}

/**
 * An ML-DSA-65 consensus key (the `ml-dsa-65` scheme); its address is `pqAddress(publicKey)`.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` when the seed is not 32 bytes
 * @example
 * const key = mlDsaDigestKey({ pqSeed }, {})
 * const sig = key.sign(voteDigest(chainId, vote)) // 3,309 bytes
 */
export function mlDsaDigestKey(opts: PqDigestKeyOptions, modules: PqDigestKeyModules = {}): SchemeDigestKey {
  const { publicKey, secretKey } = keysOf(opts)
  return {
    scheme: 'ml-dsa-65',
    address: pqAddress(publicKey),
    pqPublicKey: publicKey,
    sign: pqSigner(opts, modules, secretKey),
  }
}

/**
 * A hybrid consensus key: `sign(digest)` is the secp256k1 key's 65 bytes ‖ ML-DSA-65's 3,309, and
 * throws (the engine sends nothing) when either part fails. The address is the secp256k1 key's.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` when the seed is not 32 bytes
 * @example
 * const key = hybridDigestKey({ secpKey: rawDigestKey(privateKey), pqSeed }, {})
 */
export function hybridDigestKey(opts: HybridDigestKeyOptions, modules: PqDigestKeyModules = {}): SchemeDigestKey {
  const { publicKey, secretKey } = keysOf(opts)
  const pq = pqSigner(opts, modules, secretKey)
  const secp = opts.secpKey
  return {
    scheme: 'hybrid',
    address: secp.address,
    pqPublicKey: publicKey,
    sign: (digest) => joinHybridSignature(secp.sign(digest), pq(digest)),
  }
}
