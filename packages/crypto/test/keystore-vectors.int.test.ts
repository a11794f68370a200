// The keystore's costly KDF runs: the Web3 Secret Storage spec's scrypt vector (n=2^18, p=8, r=1:
// outside OpenSSL's limits, so the JS scrypt fallback; ~4-10 s, ~26-46 s under V8 coverage, whose
// block counters slow a tight JS loop several times) and a keystore at the default parameters
// (n=2^18, r=8: 256 MiB). Integration tier: out of the unit tier that CI measures coverage on.
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { decryptKeystore, encryptKeystore, KEYSTORE_DEFAULT_SCRYPT, privateKeyToAddress } from '../src/index.ts'

// Test vector from the Web3 Secret Storage Definition
// (https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/).
const VECTOR_PASSWORD = 'testpassword'
const VECTOR_KEY = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'
const KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')

const SCRYPT_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: {
      dklen: 32,
      n: 262144,
      p: 8,
      r: 1,
      salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19',
    },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

describe('keystore: the costly KDF runs', () => {
  it('scrypt vector (r=1, outside OpenSSL limits: JS scrypt fallback)', async () => {
    expect(bytesToHex(await decryptKeystore(JSON.stringify(SCRYPT_VECTOR), VECTOR_PASSWORD))).toBe(VECTOR_KEY)
  })

  it('default parameters (n=262144, r=8, p=1) produce a well-formed v3 keystore', async () => {
    const ks = await encryptKeystore(KEY, 'correct horse')
    expect(ks.version).toBe(3)
    expect(ks.crypto.kdf).toBe('scrypt')
    expect(ks.crypto.kdfparams).toMatchObject({ n: 262144, r: 8, p: 1, dklen: 32 })
    expect(KEYSTORE_DEFAULT_SCRYPT).toMatchObject({ n: 262144, r: 8, p: 1, dklen: 32 })
    expect(ks.crypto.cipher).toBe('aes-128-ctr')
    expect(ks.crypto.cipherparams.iv).toMatch(/^[0-9a-f]{32}$/)
    expect(ks.crypto.kdfparams.salt).toMatch(/^[0-9a-f]{64}$/)
    expect(ks.crypto.ciphertext).toMatch(/^[0-9a-f]{64}$/)
    expect(ks.crypto.mac).toMatch(/^[0-9a-f]{64}$/)
    expect(ks.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(ks.address).toBe(bytesToHex(privateKeyToAddress(KEY)).slice(2))
    expect(ks.address).toBe('70997970c51812dc3a010c7d01b50e0d17dc79c8')
    expect(await decryptKeystore(ks, 'correct horse')).toEqual(KEY)
  })
})
