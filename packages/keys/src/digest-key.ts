/**
 * A secp256k1 key as every Cairn signer uses it: an address, and signatures of 32-byte digests.
 * The key itself may be in this process ({@link rawDigestKey}) or in a hardware security module
 * that never lets it out (`hsm/pkcs11-key.ts`): the consensus signers (`ValidatorSigner`, the
 * remote signer's `SignerServer`) and the transaction accounts (`account.ts`: the arbitrage trading
 * key, the reserves anchoring key) see only this face.
 */
import { ecdsaSign, privateKeyToAddress } from '@cairn/crypto'

/** A 20-byte address. */
export type Address = Uint8Array

/** Signs a 32-byte digest in this process: 65 bytes `r ‖ s ‖ v`, low s, v = 27 + recovery id (RFC 6979). */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const sig = ecdsaSign(digest, privateKey)
  const out = new Uint8Array(65)
  out.set(sig.r, 0)
  out.set(sig.s, 32)
  out[64] = 27 + sig.recovery
  return out
}

export interface DigestKey {
  /** The key's Ethereum address (20 bytes). */
  readonly address: Address
  /**
   * Signs a 32-byte digest: 65 bytes `r ‖ s ‖ v` with low s and v = 27 + recovery id ({@link signDigest}).
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
