/**
 * secp256k1 ECDSA signatures in DER (X.690), as libp2p's secp256k1 keys carry them (the Noise
 * handshake's identity signature, signed peer records), from the `r ‖ s` every Cairn signer gives.
 */

import { CairnError } from '@cairn/utils'
import { secp256k1 as noble } from '@noble/curves/secp256k1'
import { CryptoErrorCode } from './errors.ts'

/**
 * The DER encoding of the signature `r ‖ s` (the first 64 bytes of `sig`: a 65-byte `r ‖ s ‖ v`
 * is taken too), with s made low (s ≤ n/2), as verifiers that refuse malleable signatures ask.
 * @throws CairnError `CRYPTO_INVALID_SIGNATURE` when r or s is not in [1, n)
 */
export function ecdsaToDer(sig: Uint8Array): Uint8Array {
  if (sig.length !== 64 && sig.length !== 65) {
    throw new CairnError(CryptoErrorCode.INVALID_SIGNATURE, `an r ‖ s signature is 64 or 65 bytes, not ${sig.length}`, {
      fault: 'caller',
    })
  }
  try {
    return noble.Signature.fromCompact(sig.subarray(0, 64)).normalizeS().toDERRawBytes()
  } catch (err) {
    throw new CairnError(CryptoErrorCode.INVALID_SIGNATURE, `not a secp256k1 signature: ${(err as Error).message}`, {
      fault: 'caller',
      cause: err,
    })
  }
}
