/**
 * The hybrid consensus signature: `secp256k1 (65 bytes r ‖ s ‖ v) ‖ ML-DSA-65 (3,309 bytes)`, both
 * over the same vote or proposal digest, 3,374 bytes in all, one byte string wherever a signature
 * goes (wire messages, certificates, evidence).
 *
 * The secp256k1 part comes first so that the existing recover path (and its cache) still finds the
 * signer from the first 65 bytes; the ML-DSA part is then checked against that validator's key.
 */
import { ML_DSA65_SIGNATURE_BYTES } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../../errors.ts'
import { HYBRID_SIGNATURE_BYTES, SECP_SIGNATURE_BYTES } from './scheme.ts'

/** The two parts of a hybrid signature (views into it, not copies). */
export interface HybridSignatureParts {
  secp: Uint8Array
  pq: Uint8Array
}

/**
 * The hybrid signature of its two parts.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` when a part has the wrong length (a signer bug)
 */
export function joinHybridSignature(secp: Uint8Array, pq: Uint8Array): Uint8Array {
  if (secp.length !== SECP_SIGNATURE_BYTES || pq.length !== ML_DSA65_SIGNATURE_BYTES) {
    throw new CairnError(
      ConsensusErrorCode.BFT_SIGNER_CONFIG,
      `a hybrid signature joins ${SECP_SIGNATURE_BYTES} + ${ML_DSA65_SIGNATURE_BYTES} bytes, got ${secp.length} + ${pq.length}`,
      { fault: 'internal', hint: 'the secp256k1 key must sign r ‖ s ‖ v, the ML-DSA key ML-DSA-65' },
    )
  }
  const out = new Uint8Array(HYBRID_SIGNATURE_BYTES)
  out.set(secp, 0)
  out.set(pq, SECP_SIGNATURE_BYTES)
  return out
}

/** The two parts of a hybrid signature, or null when it is not 3,374 bytes. */
export function splitHybridSignature(signature: Uint8Array): HybridSignatureParts | null {
  if (signature.length !== HYBRID_SIGNATURE_BYTES) return null
  return { secp: signature.subarray(0, SECP_SIGNATURE_BYTES), pq: signature.subarray(SECP_SIGNATURE_BYTES) }
}
