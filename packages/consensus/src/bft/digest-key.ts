/**
 * A validator key as the signers use it: an address, and signatures of 32-byte digests. The key
 * itself may be in this process ({@link rawDigestKey}) or in a hardware security module that never
 * lets it out (`hsm/pkcs11-key.ts`): the signers (`ValidatorSigner`, the remote signer's
 * `SignerServer`) see only this face.
 */
import { privateKeyToAddress } from '@cairn/crypto'
import type { Address } from './messages.ts'
import { signDigest } from './signing.ts'

export interface DigestKey {
  /** The key's Ethereum address (20 bytes). */
  readonly address: Address
  /**
   * Signs a 32-byte digest: 65 bytes `r ‖ s ‖ v` with low s and v = 27 + recovery id (signing.ts).
   * Throws when it cannot sign (a device gone): the caller sends nothing.
   */
  sign(digest: Uint8Array): Uint8Array
}

/** A key held in this process (the private key bytes); `sign` defaults to secp256k1 (RFC 6979). */
export function rawDigestKey(
  privateKey: Uint8Array,
  sign: (digest: Uint8Array, privateKey: Uint8Array) => Uint8Array = signDigest,
): DigestKey {
  return { address: privateKeyToAddress(privateKey), sign: (digest) => sign(digest, privateKey) }
}
