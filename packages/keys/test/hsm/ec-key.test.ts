/** The secp256k1 pieces of the PKCS#11 backend: EC points in and out of DER, and r ‖ s made Cairn's (low s, v). */
import { keccak256, privateKeyToAddress, privateKeyToPublicKey } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { signDigest } from '../../src/digest-key.ts'
import {
  ecPointToPublicKey,
  isSecp256k1Params,
  publicKeyToEcPoint,
  SECP256K1_OID_DER,
  toRecoverableSignature,
} from '../../src/hsm/ec-key.ts'

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const KEY = keccak256(new TextEncoder().encode('ec-key test'))
const ADDRESS = privateKeyToAddress(KEY)
const toBytes32 = (v: bigint) => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))

describe('EC points and the curve OID', () => {
  it('reads CKA_EC_POINT as a DER OCTET STRING or a bare point, and writes the DER form', () => {
    const pub = privateKeyToPublicKey(KEY)
    const der = publicKeyToEcPoint(pub)
    expect(bytesToHex(der.subarray(0, 3))).toBe('0x044104')
    expect(ecPointToPublicKey(der)).toEqual(pub)
    expect(ecPointToPublicKey(pub)).toEqual(pub)
    expect(ecPointToPublicKey(Uint8Array.from([0x04, 0x81, 0x41, ...pub]))).toEqual(pub)
    expect(ecPointToPublicKey(der.subarray(0, 40))).toBeNull()
    expect(ecPointToPublicKey(Uint8Array.from([0x04, 0x21, 0x02, ...new Uint8Array(32)]))).toBeNull()
  })

  it('knows secp256k1 by its OID (and nothing else: P-256 is not it)', () => {
    expect(isSecp256k1Params(SECP256K1_OID_DER)).toBe(true)
    expect(isSecp256k1Params(Uint8Array.from(Buffer.from('06082a8648ce3d030107', 'hex')))).toBe(false)
  })
})

describe('toRecoverableSignature', () => {
  it('keeps a low s, folds a high s to n - s, and finds v; null for another key', () => {
    for (let i = 0; i < 20; i++) {
      const digest = keccak256(new TextEncoder().encode(`digest ${i}`))
      const want = signDigest(digest, KEY)
      expect(toRecoverableSignature(want.subarray(0, 64), digest, ADDRESS)).toEqual(want)
      const high = new Uint8Array(64)
      high.set(want.subarray(0, 32), 0)
      high.set(toBytes32(N - BigInt(bytesToHex(want.subarray(32, 64)))), 32)
      expect(toRecoverableSignature(high, digest, ADDRESS)).toEqual(want)
      expect(toRecoverableSignature(want.subarray(0, 64), digest, new Uint8Array(20))).toBeNull()
    }
    expect(toRecoverableSignature(new Uint8Array(63), new Uint8Array(32), ADDRESS)).toBeNull()
  })
})
