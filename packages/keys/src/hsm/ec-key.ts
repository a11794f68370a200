/**
 * The secp256k1 pieces a PKCS#11 token speaks in: the curve's OID (CKA_EC_PARAMS), the public
 * point as a DER OCTET STRING (CKA_EC_POINT), and the raw `r ‖ s` of CKM_ECDSA turned into the
 * 65-byte low-s `r ‖ s ‖ v` Cairn signs with (signing.ts).
 */
import { ecdsaRecover, publicKeyToAddress } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import type { Address } from '../digest-key.ts'

/** DER of the OID 1.3.132.0.10 (secp256k1): CKA_EC_PARAMS of a secp256k1 key. */
export const SECP256K1_OID_DER = Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a])

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = N >> 1n

/** True when `params` (CKA_EC_PARAMS) names secp256k1. */
export function isSecp256k1Params(params: Uint8Array): boolean {
  return params.length === SECP256K1_OID_DER.length && params.every((b, i) => b === SECP256K1_OID_DER[i])
}

/**
 * The uncompressed public key (65 bytes, 0x04 ‖ x ‖ y) in CKA_EC_POINT: a DER OCTET STRING holding
 * it (PKCS#11), or the bare point (some tokens). Null when it is neither.
 */
export function ecPointToPublicKey(ecPoint: Uint8Array): Uint8Array | null {
  if (ecPoint.length === 65 && ecPoint[0] === 0x04) return ecPoint
  if (ecPoint[0] !== 0x04) return null
  // DER OCTET STRING: 0x04, a short (< 128) or long (0x81 n) length, then the content.
  const [start, len] = ecPoint[1] === 0x81 ? [3, ecPoint[2]] : [2, ecPoint[1]]
  const inner = ecPoint.subarray(start)
  return len === 65 && inner.length === 65 && inner[0] === 0x04 ? inner : null
}

/** CKA_EC_POINT for an uncompressed public key: the DER OCTET STRING holding it. */
export function publicKeyToEcPoint(publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + publicKey.length)
  out[0] = 0x04
  out[1] = publicKey.length
  out.set(publicKey, 2)
  return out
}

function toBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${bytesToHex(b).slice(2)}`)
}

function to32(v: bigint): Uint8Array {
  const hex = v.toString(16).padStart(64, '0')
  return Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16))
}

/**
 * `r ‖ s` from CKM_ECDSA (64 bytes) as Cairn's signature of `digest` by `address`: s moved to the
 * low half of the curve order (`n - s`, as Ethereum requires), v = 27 + the recovery id that
 * recovers `address`. Null when neither recovery id does (the token signed with another key, or
 * the bytes are not a signature).
 */
export function toRecoverableSignature(rs: Uint8Array, digest: Uint8Array, address: Address): Uint8Array | null {
  if (rs.length !== 64) return null
  const out = new Uint8Array(65)
  out.set(rs.subarray(0, 32), 0)
  const s = toBigInt(rs.subarray(32, 64))
  out.set(s > HALF_N ? to32(N - s) : rs.subarray(32, 64), 32)
  const want = bytesToHex(address)
  for (const recovery of [0, 1]) {
    try {
      if (bytesToHex(publicKeyToAddress(ecdsaRecover(out.subarray(0, 64), recovery, digest))) === want) {
        out[64] = 27 + recovery
        return out
      }
    } catch {
      // Not a point for this recovery id: try the other.
    }
  }
  return null
}
