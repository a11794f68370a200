/**
 * The signature scheme of a chain's consensus votes and proposals (a genesis parameter, the same for
 * every validator and every height): secp256k1 (today's), ML-DSA-65 alone, or the hybrid of both.
 *
 * - `secp256k1`: 65 bytes `r ‖ s ‖ v` over the digest (signing.ts), the signer recovered from it.
 * - `ml-dsa-65`: 3,309 bytes, FIPS 204 ML-DSA-65 over the same 32-byte digest with the context
 *   string {@link BFT_PQ_CONTEXT}; verified against the validator's registered ML-DSA public key
 *   (ML-DSA has no key recovery). The validator's address is {@link pqAddress} of that key.
 * - `hybrid`: 3,374 bytes, the secp256k1 signature ‖ the ML-DSA-65 signature, both over the same
 *   digest; valid only when both are (an attacker must break both schemes).
 *
 * A validator set entry gains the ML-DSA public key ({@link PqValidator}); see
 * docs/consensus/post-quantum.md for the format and the integration plan.
 */
import { keccak256, ML_DSA65_PUBLIC_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../../errors.ts'
import { type Address, hashKey } from '../messages.ts'
import { BFT_DOMAIN } from '../signing.ts'
import type { Validator } from '../validator-set.ts'

/** The chain's choice of consensus signature. */
export type SignatureScheme = 'secp256k1' | 'ml-dsa-65' | 'hybrid'

/** Every scheme, in the order of their names in configuration. */
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['secp256k1', 'ml-dsa-65', 'hybrid']

/** Bytes of a secp256k1 consensus signature (`r ‖ s ‖ v`). */
export const SECP_SIGNATURE_BYTES = 65
/** Bytes of a hybrid consensus signature: secp256k1 (65) ‖ ML-DSA-65 (3,309). */
export const HYBRID_SIGNATURE_BYTES = SECP_SIGNATURE_BYTES + ML_DSA65_SIGNATURE_BYTES

/**
 * The FIPS 204 context string of every consensus ML-DSA signature: the BFT domain tag, so an
 * ML-DSA key used for consensus can sign nothing that verifies elsewhere (and the digest itself
 * already starts with the same tag, chain id included).
 */
export const BFT_PQ_CONTEXT: Uint8Array = new TextEncoder().encode(BFT_DOMAIN)

/** The length of a signature under `scheme`. */
export function signatureBytes(scheme: SignatureScheme): number {
  switch (scheme) {
    case 'secp256k1':
      return SECP_SIGNATURE_BYTES
    case 'ml-dsa-65':
      return ML_DSA65_SIGNATURE_BYTES
    case 'hybrid':
      return HYBRID_SIGNATURE_BYTES
  }
}

/** True when `scheme` needs the validators' ML-DSA public keys. */
export function needsPqKeys(scheme: SignatureScheme): boolean {
  return scheme !== 'secp256k1'
}

/**
 * A scheme from its configuration name.
 * @throws CairnError `CONSENSUS_BFT_INVALID_CONFIG` (fault 'caller') naming the accepted values
 */
export function parseSignatureScheme(name: string): SignatureScheme {
  const found = SIGNATURE_SCHEMES.find((s) => s === name)
  if (found === undefined) {
    throw new CairnError(ConsensusErrorCode.BFT_INVALID_CONFIG, `unknown consensus signature scheme "${name}"`, {
      fault: 'caller',
      hint: `use one of ${SIGNATURE_SCHEMES.join(', ')}`,
    })
  }
  return found
}

/**
 * A validator set entry with its ML-DSA-65 public key (1,952 bytes); null under `secp256k1`. The
 * type extension `validator-set.ts` takes in the integration slice.
 */
export interface PqValidator extends Validator {
  readonly pqPublicKey: Uint8Array | null
}

/** Who a vote signature must be from: the validator's address and, for a PQ scheme, its ML-DSA key. */
export interface VoteSignerIdentity {
  address: Address
  pqPublicKey: Uint8Array | null
}

/**
 * The address of an ML-DSA-only validator: the last 20 bytes of keccak-256 of its public key (as an
 * Ethereum address is of a secp256k1 key), so an `ml-dsa-65` key has an address to be known by.
 */
export function pqAddress(pqPublicKey: Uint8Array): Address {
  return keccak256(pqPublicKey).subarray(12)
}

/**
 * Checks a validator entry fits `scheme`: a 1,952-byte ML-DSA key under `ml-dsa-65` and `hybrid`,
 * none under `secp256k1`, and under `ml-dsa-65` an address that is {@link pqAddress} of the key.
 * Done once when a set is built (genesis, a validator update), not per vote.
 * @throws CairnError `CONSENSUS_BFT_INVALID_VALIDATOR_SET` (fault 'caller') saying which and why
 */
export function checkPqValidatorEntry(scheme: SignatureScheme, entry: VoteSignerIdentity): void {
  const who = hashKey(entry.address)
  const fail = (message: string, hint: string): CairnError =>
    new CairnError(ConsensusErrorCode.BFT_INVALID_VALIDATOR_SET, `validator ${who}: ${message}`, {
      fault: 'caller',
      hint,
    })
  const key = entry.pqPublicKey
  if (!needsPqKeys(scheme)) {
    if (key !== null) throw fail('has an ML-DSA key under the secp256k1 scheme', 'drop pqPublicKey, or use hybrid')
    return
  }
  if (key === null) {
    throw fail(`has no ML-DSA-65 public key, which the ${scheme} scheme needs`, 'register its pqPublicKey')
  }
  if (key.length !== ML_DSA65_PUBLIC_KEY_BYTES) {
    throw fail(
      `ML-DSA-65 public key is ${key.length} bytes, not ${ML_DSA65_PUBLIC_KEY_BYTES}`,
      'register the public key, not the seed or the secret key',
    )
  }
  if (scheme === 'ml-dsa-65' && hashKey(pqAddress(key)) !== who) {
    throw fail(
      `address is not keccak256(pqPublicKey)[12:] (${hashKey(pqAddress(key))})`,
      'an ML-DSA-only validator is known by the address of its key',
    )
  }
}
