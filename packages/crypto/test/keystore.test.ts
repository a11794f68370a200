import { bytesToHex, hexToBytes } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { CryptoErrorCode, decryptKeystore, encryptKeystore, type KeystoreV3 } from '../src/index.ts'

// Test vectors from the Web3 Secret Storage Definition
// (https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/).
const VECTOR_PASSWORD = 'testpassword'
const VECTOR_KEY = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'

const PBKDF2_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

const KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const SMALL = { n: 1024, r: 8, p: 1 }

async function rejection(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; meta?: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    return err as { code: string; message: string; meta?: Record<string, unknown> }
  }
  throw new TypeError('expected a rejection')
}

const clone = <T>(v: T): T => structuredClone(v)

describe('decryptKeystore: spec test vectors', () => {
  it('PBKDF2-SHA-256 vector', async () => {
    expect(bytesToHex(await decryptKeystore(PBKDF2_VECTOR, VECTOR_PASSWORD))).toBe(VECTOR_KEY)
  })

  it('wrong password on a vector: KEYSTORE_BAD_PASSWORD', async () => {
    const err = await rejection(decryptKeystore(PBKDF2_VECTOR, 'wrongpassword'))
    expect(err).toMatchObject({ code: CryptoErrorCode.KEYSTORE_BAD_PASSWORD, fault: 'caller' })
    expect(err.message).toContain('wrong password for keystore')
  })
})

describe('encryptKeystore / decryptKeystore round trip', () => {
  it('r=1 with n=2^16 (outside OpenSSL limits): the JS scrypt fallback round trip', async () => {
    // the spec's own r=1 vector (n=2^18, p=8) is in keystore-vectors.int.test.ts: ~4-10 s of JS scrypt
    const ks = await encryptKeystore(KEY, 'pw', { n: 2 ** 16, r: 1, p: 1 })
    expect(ks.crypto.kdfparams).toMatchObject({ n: 65536, r: 1, p: 1 })
    expect(await decryptKeystore(JSON.stringify(ks), 'pw')).toEqual(KEY)
    await expect(decryptKeystore(ks, 'other')).rejects.toMatchObject({ code: CryptoErrorCode.KEYSTORE_BAD_PASSWORD })
  })

  it('small n round trip through JSON text, with fresh salt and iv each time', async () => {
    const a = await encryptKeystore(KEY, 'pw', SMALL)
    const b = await encryptKeystore(KEY, 'pw', SMALL)
    expect(a.crypto.kdfparams.salt).not.toBe(b.crypto.kdfparams.salt)
    expect(a.crypto.cipherparams.iv).not.toBe(b.crypto.cipherparams.iv)
    expect(a.id).not.toBe(b.id)
    expect(await decryptKeystore(JSON.stringify(a), 'pw')).toEqual(KEY)
    expect(await decryptKeystore(b, new TextEncoder().encode('pw'))).toEqual(KEY)
  })

  it('wrong password: KEYSTORE_BAD_PASSWORD naming the address', async () => {
    const ks = await encryptKeystore(KEY, 'right', SMALL)
    const err = await rejection(decryptKeystore(ks, 'wrong'))
    expect(err).toMatchObject({ code: CryptoErrorCode.KEYSTORE_BAD_PASSWORD, fault: 'caller' })
    expect(err.message).toBe('wrong password for keystore 0x70997970c51812dc3a010c7d01b50e0d17dc79c8')
  })

  it('accepts 0x-prefixed hex, upper-case hex and the legacy "Crypto" key', async () => {
    const ks = await encryptKeystore(KEY, 'pw', SMALL)
    const variant = clone(ks) as unknown as Record<string, unknown>
    const c = clone(ks.crypto)
    c.ciphertext = `0x${c.ciphertext.toUpperCase()}`
    variant.Crypto = c
    variant.crypto = undefined
    variant.address = `0x${ks.address.toUpperCase()}`
    expect(await decryptKeystore(variant, 'pw')).toEqual(KEY)
  })

  it('rejects bad options with KEYSTORE_INVALID_OPTIONS and bad keys with CRYPTO_INVALID_PRIVATE_KEY', async () => {
    for (const opts of [{ n: 1000 }, { n: 1 }, { r: 0 }, { p: 0 }, { n: 2 ** 22, r: 8 }, { n: 1024, p: 1.5 }]) {
      expect(await rejection(encryptKeystore(KEY, 'pw', opts))).toMatchObject({
        code: CryptoErrorCode.KEYSTORE_INVALID_OPTIONS,
      })
    }
    expect(await rejection(encryptKeystore(new Uint8Array(32), 'pw', SMALL))).toMatchObject({
      code: CryptoErrorCode.INVALID_PRIVATE_KEY,
    })
  })
})

describe('decryptKeystore: invalid keystores', () => {
  let base: KeystoreV3
  const get = async (): Promise<KeystoreV3> => {
    base ??= await encryptKeystore(KEY, 'pw', SMALL)
    return clone(base)
  }

  type Json = Record<string, unknown>
  /** Sets `doc.a.b.c = value` for path 'a.b.c' and returns doc. */
  const set =
    (path: string, value: unknown) =>
    (doc: Json): Json => {
      const keys = path.split('.')
      let cur = doc
      for (const k of keys.slice(0, -1)) cur = cur[k] as Json
      cur[keys[keys.length - 1] as string] = value
      return doc
    }

  const cases: [string, (ks: Json) => unknown, string][] = [
    ['version', set('version', 1), 'version'],
    ['missing crypto', set('crypto', undefined), 'crypto'],
    ['cipher', set('crypto.cipher', 'aes-128-cbc'), 'crypto.cipher'],
    ['iv length', set('crypto.cipherparams.iv', 'abcd'), 'crypto.cipherparams.iv'],
    ['iv not hex', set('crypto.cipherparams.iv', 'zz'.repeat(16)), 'crypto.cipherparams.iv'],
    ['ciphertext missing', set('crypto.ciphertext', undefined), 'crypto.ciphertext'],
    ['ciphertext truncated', set('crypto.ciphertext', 'ab'.repeat(20)), 'crypto.ciphertext'],
    ['mac', set('crypto.mac', 42), 'crypto.mac'],
    ['kdf', set('crypto.kdf', 'argon2'), 'crypto.kdf'],
    ['kdfparams', set('crypto.kdfparams', 'x'), 'crypto.kdfparams'],
    ['n not a power of two', set('crypto.kdfparams.n', 1000), 'crypto.kdfparams.n'],
    ['n as a string', set('crypto.kdfparams.n', '1024'), 'crypto.kdfparams.n'],
    ['hostile n (memory)', set('crypto.kdfparams.n', 2 ** 24), 'crypto.kdfparams.n'],
    ['hostile p (work)', set('crypto.kdfparams.p', 2 ** 20), 'crypto.kdfparams.p'],
    ['dklen', set('crypto.kdfparams.dklen', 16), 'crypto.kdfparams.dklen'],
    ['salt', set('crypto.kdfparams.salt', ''), 'crypto.kdfparams.salt'],
    ['address', set('address', 'nope'), 'address'],
    ['not an object', () => [1, 2, 3], '(root)'],
    ['null', () => null, '(root)'],
  ]

  it.each(cases)('%s: KEYSTORE_INVALID naming the field', async (_name, mutate, fieldName) => {
    const err = await rejection(decryptKeystore(mutate((await get()) as unknown as Json), 'pw'))
    expect(err).toMatchObject({ code: CryptoErrorCode.KEYSTORE_INVALID, fault: 'caller', meta: { field: fieldName } })
    expect(err.message).toContain(fieldName)
  })

  it('truncated JSON text: KEYSTORE_INVALID', async () => {
    const text = JSON.stringify(await get())
    const err = await rejection(decryptKeystore(text.slice(0, text.length / 2), 'pw'))
    expect(err).toMatchObject({ code: CryptoErrorCode.KEYSTORE_INVALID })
    expect(err.message).toContain('not valid JSON')
  })

  it('pbkdf2 with another prf or absurd iteration count: KEYSTORE_INVALID', async () => {
    const a = clone(PBKDF2_VECTOR)
    a.crypto.kdfparams.prf = 'hmac-sha512'
    expect(await rejection(decryptKeystore(a, VECTOR_PASSWORD))).toMatchObject({
      meta: { field: 'crypto.kdfparams.prf' },
    })
    const b = clone(PBKDF2_VECTOR)
    b.crypto.kdfparams.c = 1e9
    expect(await rejection(decryptKeystore(b, VECTOR_PASSWORD))).toMatchObject({
      meta: { field: 'crypto.kdfparams.c' },
    })
  })

  it('address that does not match the key: KEYSTORE_INVALID (not a password error)', async () => {
    const ks = await get()
    ks.address = 'f39fd6e51aad88f6f4ce6ab8827279cfffb92266'
    const err = await rejection(decryptKeystore(ks, 'pw'))
    expect(err).toMatchObject({ code: CryptoErrorCode.KEYSTORE_INVALID, meta: { field: 'address' } })
  })

  it('tampered ciphertext: MAC mismatch is reported as a bad password', async () => {
    const ks = await get()
    ks.crypto.ciphertext = `${ks.crypto.ciphertext.slice(0, 62)}${ks.crypto.ciphertext.endsWith('00') ? '01' : '00'}`
    expect(await rejection(decryptKeystore(ks, 'pw'))).toMatchObject({ code: CryptoErrorCode.KEYSTORE_BAD_PASSWORD })
  })
})
