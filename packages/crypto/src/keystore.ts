/**
 * Web3 Secret Storage Definition v3 keystores (the JSON key files of geth, clef, ethers, MetaMask).
 *
 * Encryption: scrypt (default n=262144, r=8, p=1, dklen=32, 32-byte random salt) derives a key; its
 * first 16 bytes are the AES-128-CTR key (random 16-byte iv) for the 32-byte private key, and
 * `mac = keccak256(derivedKey[16..32] ‖ ciphertext)`. Decryption also accepts the spec's PBKDF2
 * (hmac-sha256) variant and the capitalised `Crypto` key some older wallets wrote.
 *
 * Scrypt runs in libuv's thread pool (node:crypto) so it never blocks the event loop. OpenSSL only
 * accepts n < 2^(16·r) (RFC 7914); files outside that bound (e.g. the spec's own r=1 test vector)
 * are handled by @noble/hashes' async scrypt, which yields to the event loop while it runs.
 *
 * This file only turns bytes into JSON and back. Where key files live, their permissions and how
 * passwords are obtained is the node's policy, not this package's.
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { bytesToHex, concatBytes, errorMessage, type Hex } from '@cairn/utils'
import { scryptAsync } from '@noble/hashes/scrypt'
import { CryptoErrorCode, cryptoError } from './errors.ts'
import { keccak256 } from './keccak.ts'
import { isValidPrivateKey, privateKeyToAddress } from './secp256k1.ts'

/** scrypt parameters as stored in `crypto.kdfparams`. */
export interface ScryptKdfParams {
  dklen: number
  n: number
  r: number
  p: number
  /** Hex, no 0x. */
  salt: string
}

/** PBKDF2 parameters as stored in `crypto.kdfparams`. */
export interface Pbkdf2KdfParams {
  dklen: number
  c: number
  prf: 'hmac-sha256'
  /** Hex, no 0x. */
  salt: string
}

/** The `crypto` section of a v3 keystore. Hex fields carry no 0x prefix. */
export type KeystoreV3Crypto = {
  cipher: 'aes-128-ctr'
  cipherparams: { iv: string }
  ciphertext: string
  mac: string
} & ({ kdf: 'scrypt'; kdfparams: ScryptKdfParams } | { kdf: 'pbkdf2'; kdfparams: Pbkdf2KdfParams })

/** A Web3 Secret Storage v3 keystore, as written by {@link encryptKeystore}. */
export interface KeystoreV3 {
  /** Lower-case hex address without 0x. */
  address: string
  crypto: KeystoreV3Crypto
  /** Random UUID v4. */
  id: string
  version: 3
}

/** scrypt cost options of {@link encryptKeystore}. */
export interface EncryptKeystoreOptions {
  /** CPU/memory cost, a power of two. Default 262144 (2^18). Use small values (e.g. 1024) only in tests. */
  n?: number
  /** Block size. Default 8. */
  r?: number
  /** Parallelism. Default 1. */
  p?: number
}

/** Default scrypt parameters (geth's "standard" ones). */
export const KEYSTORE_DEFAULT_SCRYPT = Object.freeze({ n: 262144, r: 8, p: 1, dklen: 32 })

/** Upper bound on scrypt memory (128·r·(n+p) bytes) accepted from a keystore or options: 1 GiB. */
const MAX_SCRYPT_MEMORY = 2 ** 30
/** Upper bound on scrypt work n·r·p: 32x the default, so a hostile file cannot stall the node for minutes. */
const MAX_SCRYPT_WORK = 2 ** 26
/** Upper bound on PBKDF2 iterations (the spec vector uses 262144). */
const MAX_PBKDF2_ITERATIONS = 10_000_000

const HINT_FORMAT = 'expected a Web3 Secret Storage v3 keystore (as written by geth, clef, ethers or encryptKeystore())'

// ---------------------------------------------------------------------------------------------
// Key derivation
// ---------------------------------------------------------------------------------------------

type KdfSpec =
  | { kdf: 'scrypt'; n: number; r: number; p: number; dklen: number; salt: Uint8Array }
  | { kdf: 'pbkdf2'; c: number; dklen: number; salt: Uint8Array }

function scryptMemory(n: number, r: number, p: number): number {
  return 128 * r * (n + p + 2)
}

function nodeScrypt(
  password: Uint8Array,
  salt: Uint8Array,
  n: number,
  r: number,
  p: number,
  dklen: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    try {
      scrypt(password, salt, dklen, { N: n, r, p, maxmem: scryptMemory(n, r, p) + 2 ** 20 }, (err, key) => {
        if (err) reject(err)
        else resolve(new Uint8Array(key))
      })
    } catch (err) {
      reject(err)
    }
  })
}

/** True when OpenSSL accepts these parameters (RFC 7914: n < 2^(16·r)). */
function opensslAccepts(n: number, r: number): boolean {
  return r >= 2 || n < 2 ** (16 * r)
}

async function deriveKey(password: Uint8Array, spec: KdfSpec): Promise<Uint8Array> {
  if (spec.kdf === 'pbkdf2') {
    return new Promise((resolve, reject) => {
      pbkdf2(password, spec.salt, spec.c, spec.dklen, 'sha256', (err, key) => {
        if (err) reject(err)
        else resolve(new Uint8Array(key))
      })
    })
  }
  const { n, r, p, dklen, salt } = spec
  if (opensslAccepts(n, r)) {
    try {
      return await nodeScrypt(password, salt, n, r, p, dklen)
    } catch {
      // fall through to the JS implementation (e.g. an OpenSSL build with other limits)
    }
  }
  return scryptAsync(password, salt, { N: n, r, p, dkLen: dklen, maxmem: scryptMemory(n, r, p) + 2 ** 20 })
}

function checkScryptCost(n: number, r: number, p: number, fail: (field: string, message: string) => never): void {
  if (!Number.isSafeInteger(n) || n < 2 || (n & (n - 1)) !== 0 || n > 2 ** 30)
    fail('n', `must be a power of two between 2 and 2^30, got ${n}`)
  if (!Number.isSafeInteger(r) || r < 1) fail('r', `must be a positive integer, got ${r}`)
  if (!Number.isSafeInteger(p) || p < 1) fail('p', `must be a positive integer, got ${p}`)
  if (scryptMemory(n, r, p) > MAX_SCRYPT_MEMORY)
    fail(
      p > n ? 'p' : 'n',
      `scrypt would need ${Math.ceil(scryptMemory(n, r, p) / 2 ** 20)} MiB (128·r·(n+p)); the limit is 1024 MiB`,
    )
  if (n * r * p > MAX_SCRYPT_WORK) fail('p', `scrypt work n·r·p = ${n * r * p} exceeds the limit 2^26`)
}

function macOf(derivedKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return keccak256(concatBytes(derivedKey.subarray(16, 32), ciphertext))
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
  if (password instanceof Uint8Array) return password
  if (typeof password !== 'string') {
    throw cryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'password must be a string or a Uint8Array')
  }
  // UTF-8 without Unicode normalisation, as geth does (ethers applies NFKC; they differ only for non-ASCII).
  return new TextEncoder().encode(password)
}

function toPlainHex(bytes: Uint8Array): string {
  return bytesToHex(bytes).slice(2)
}

// ---------------------------------------------------------------------------------------------
// Encrypt
// ---------------------------------------------------------------------------------------------

/**
 * Encrypts a private key into a v3 keystore (scrypt + AES-128-CTR + keccak MAC).
 * Takes ~1 s and 256 MiB with the default parameters; pass a small `n` in tests.
 * @throws CairnError `CRYPTO_INVALID_PRIVATE_KEY`, `KEYSTORE_INVALID_OPTIONS`
 */
export async function encryptKeystore(
  privateKey: Uint8Array,
  password: string | Uint8Array,
  opts: EncryptKeystoreOptions = {},
): Promise<KeystoreV3> {
  if (!isValidPrivateKey(privateKey)) {
    throw cryptoError(CryptoErrorCode.INVALID_PRIVATE_KEY, 'cannot encrypt: private key must be 32 bytes in [1, n-1]')
  }
  const n = opts.n ?? KEYSTORE_DEFAULT_SCRYPT.n
  const r = opts.r ?? KEYSTORE_DEFAULT_SCRYPT.r
  const p = opts.p ?? KEYSTORE_DEFAULT_SCRYPT.p
  checkScryptCost(n, r, p, (field, message) => {
    throw cryptoError(CryptoErrorCode.KEYSTORE_INVALID_OPTIONS, `scrypt option ${field} ${message}`, {
      meta: { field },
    })
  })
  const pw = passwordBytes(password)
  const salt = new Uint8Array(randomBytes(32))
  const iv = new Uint8Array(randomBytes(16))
  const dklen = KEYSTORE_DEFAULT_SCRYPT.dklen
  const derivedKey = await deriveKey(pw, { kdf: 'scrypt', n, r, p, dklen, salt })
  const cipher = createCipheriv('aes-128-ctr', derivedKey.subarray(0, 16), iv)
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(privateKey), cipher.final()]))
  const mac = macOf(derivedKey, ciphertext)
  derivedKey.fill(0)
  return {
    address: toPlainHex(privateKeyToAddress(privateKey)),
    crypto: {
      cipher: 'aes-128-ctr',
      ciphertext: toPlainHex(ciphertext),
      cipherparams: { iv: toPlainHex(iv) },
      kdf: 'scrypt',
      kdfparams: { dklen, n, p, r, salt: toPlainHex(salt) },
      mac: toPlainHex(mac),
    },
    id: randomUUID(),
    version: 3,
  }
}

// ---------------------------------------------------------------------------------------------
// Decrypt
// ---------------------------------------------------------------------------------------------

interface ParsedKeystore {
  kdf: KdfSpec
  iv: Uint8Array
  ciphertext: Uint8Array
  mac: Uint8Array
  address: string | undefined
  id: string | undefined
}

function invalid(field: string, message: string): never {
  throw cryptoError(CryptoErrorCode.KEYSTORE_INVALID, `invalid keystore: ${field} ${message}`, {
    hint: HINT_FORMAT,
    meta: { field },
  })
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function field(obj: Record<string, unknown>, key: string, path: string): unknown {
  const v = obj[key]
  if (v === undefined || v === null) invalid(`${path}${key}`, 'is missing')
  return v
}

function objectField(obj: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const v = field(obj, key, path)
  if (!isRecord(v)) invalid(`${path}${key}`, `must be an object, got ${typeof v}`)
  return v
}

function hexField(obj: Record<string, unknown>, key: string, path: string, length?: number): Uint8Array {
  const v = field(obj, key, path)
  if (typeof v !== 'string') invalid(`${path}${key}`, `must be a hex string, got ${typeof v}`)
  const body = v.startsWith('0x') ? v.slice(2) : v
  if (!/^[0-9a-fA-F]*$/.test(body) || body.length % 2 !== 0 || body.length === 0) {
    invalid(`${path}${key}`, 'must be a non-empty, even-length hex string')
  }
  if (length !== undefined && body.length !== length * 2)
    invalid(`${path}${key}`, `must be ${length} bytes, got ${body.length / 2}`)
  return new Uint8Array(Buffer.from(body, 'hex'))
}

function intField(obj: Record<string, unknown>, key: string, path: string): number {
  const v = field(obj, key, path)
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    invalid(`${path}${key}`, `must be an integer, got ${JSON.stringify(v)}`)
  return v
}

function parseKeystore(json: unknown): ParsedKeystore {
  let doc = json
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc)
    } catch (err) {
      throw cryptoError(CryptoErrorCode.KEYSTORE_INVALID, `invalid keystore: not valid JSON (${errorMessage(err)})`, {
        hint: 'the file may be truncated or not a keystore',
        cause: err,
        meta: { field: '(json)' },
      })
    }
  }
  if (!isRecord(doc)) invalid('(root)', 'must be a JSON object')
  const version = doc.version
  if (version !== 3) invalid('version', `must be 3, got ${JSON.stringify(version)}`)

  // Some older wallets wrote `Crypto`; geth reads both.
  const cryptoKey = doc.crypto === undefined && doc.Crypto !== undefined ? 'Crypto' : 'crypto'
  const c = objectField(doc, cryptoKey, '')
  const path = `${cryptoKey}.`
  const cipher = field(c, 'cipher', path)
  if (cipher !== 'aes-128-ctr') invalid(`${path}cipher`, `must be "aes-128-ctr", got ${JSON.stringify(cipher)}`)
  const iv = hexField(objectField(c, 'cipherparams', path), 'iv', `${path}cipherparams.`, 16)
  const ciphertext = hexField(c, 'ciphertext', path, 32)
  const mac = hexField(c, 'mac', path, 32)

  const kdfName = field(c, 'kdf', path)
  const kp = objectField(c, 'kdfparams', path)
  const kpath = `${path}kdfparams.`
  const dklen = intField(kp, 'dklen', kpath)
  if (dklen < 32 || dklen > 128) invalid(`${kpath}dklen`, `must be between 32 and 128, got ${dklen}`)
  const salt = hexField(kp, 'salt', kpath)
  let kdf: KdfSpec
  if (kdfName === 'scrypt') {
    const n = intField(kp, 'n', kpath)
    const r = intField(kp, 'r', kpath)
    const p = intField(kp, 'p', kpath)
    checkScryptCost(n, r, p, (f, message) => invalid(`${kpath}${f}`, message))
    kdf = { kdf: 'scrypt', n, r, p, dklen, salt }
  } else if (kdfName === 'pbkdf2') {
    const prf = field(kp, 'prf', kpath)
    if (prf !== 'hmac-sha256') invalid(`${kpath}prf`, `must be "hmac-sha256", got ${JSON.stringify(prf)}`)
    const iterations = intField(kp, 'c', kpath)
    if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS)
      invalid(`${kpath}c`, `must be between 1 and ${MAX_PBKDF2_ITERATIONS}, got ${iterations}`)
    kdf = { kdf: 'pbkdf2', c: iterations, dklen, salt }
  } else {
    invalid(`${path}kdf`, `must be "scrypt" or "pbkdf2", got ${JSON.stringify(kdfName)}`)
  }

  let address: string | undefined
  if (doc.address !== undefined && doc.address !== null) {
    const a = doc.address
    if (typeof a !== 'string' || !/^(0x)?[0-9a-fA-F]{40}$/.test(a)) invalid('address', 'must be 40 hex characters')
    address = (a.startsWith('0x') ? a.slice(2) : a).toLowerCase()
  }
  const id = typeof doc.id === 'string' ? doc.id : undefined
  return { kdf, iv, ciphertext, mac, address, id }
}

/**
 * Decrypts a v3 keystore (object or JSON string) and returns the 32-byte private key.
 * @throws CairnError `KEYSTORE_INVALID` (the message and `meta.field` name the bad field; also when
 *   the decrypted key does not match the `address` field) or `KEYSTORE_BAD_PASSWORD` (MAC mismatch).
 */
export async function decryptKeystore(json: unknown, password: string | Uint8Array): Promise<Uint8Array> {
  const ks = parseKeystore(json)
  const derivedKey = await deriveKey(passwordBytes(password), ks.kdf)
  const mac = macOf(derivedKey, ks.ciphertext)
  if (!timingSafeEqual(mac, ks.mac)) {
    derivedKey.fill(0)
    const name = ks.address !== undefined ? `0x${ks.address}` : ks.id !== undefined ? `id ${ks.id}` : '(no address)'
    throw cryptoError(CryptoErrorCode.KEYSTORE_BAD_PASSWORD, `wrong password for keystore ${name}`, {
      hint: 'check the password (or password file) given for this account; the MAC does not match',
      meta: { address: ks.address === undefined ? undefined : `0x${ks.address}`, id: ks.id },
    })
  }
  const decipher = createDecipheriv('aes-128-ctr', derivedKey.subarray(0, 16), ks.iv)
  const privateKey = new Uint8Array(Buffer.concat([decipher.update(ks.ciphertext), decipher.final()]))
  derivedKey.fill(0)
  if (!isValidPrivateKey(privateKey))
    invalid('crypto.ciphertext', 'decrypts to a value that is not a valid secp256k1 private key')
  if (ks.address !== undefined) {
    const actual: Hex = bytesToHex(privateKeyToAddress(privateKey))
    if (actual.slice(2) !== ks.address) {
      invalid('address', `is 0x${ks.address} but the decrypted key belongs to ${actual}`)
    }
  }
  return privateKey
}
