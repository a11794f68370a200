/**
 * secp256k1 ECDSA for Ethereum: signing, public key recovery, key and address derivation.
 *
 * Two engines implement the same contract:
 * - `native`: libsecp256k1 through the `secp256k1` N-API addon (loaded explicitly from
 *   `secp256k1/bindings`, because `require('secp256k1')` silently falls back to elliptic);
 * - `js`: @noble/curves (audited, constant-time-ish pure JS), always available.
 *
 * The default backend {@link secp256k1} is the native one when the addon loads, else the JS one.
 * Set `CAIRN_SECP256K1_BACKEND=js` to force the JS engine (debugging, differential checks).
 * Input validation and error mapping live in this file, outside the engines, so both backends throw
 * the same CairnError codes for the same bad input, and produce byte-identical signatures
 * (RFC 6979 deterministic nonces, low-s).
 */
import { createRequire } from 'node:module'
import { errorMessage } from '@cairn/utils'
import { secp256k1 as noble } from '@noble/curves/secp256k1'
import { assertBytes, CryptoErrorCode, cryptoError } from './errors.ts'
import { keccak256 } from './keccak.ts'

/** Name of a secp256k1 implementation. */
export type Secp256k1BackendName = 'native' | 'js'

/** An ECDSA signature split in its parts; `r` and `s` are 32-byte big-endian, `s` is low. */
export interface EcdsaSignature {
  r: Uint8Array
  s: Uint8Array
  /** Parity of R.y: 0 or 1 (add 27 for `v` in pre-EIP-155 legacy txs, or 35 + 2 * chainId). */
  recovery: 0 | 1
}

/** One secp256k1 implementation with validated inputs and CairnError failures. */
export interface Secp256k1Backend {
  readonly name: Secp256k1BackendName
  /**
   * Signs a 32-byte message hash: RFC 6979 deterministic nonce, low-s normalised.
   * With `extraEntropy` (32 bytes) the nonce is hedged as in RFC 6979 §3.6 (same on both backends).
   * @throws CairnError `CRYPTO_INVALID_HASH`, `CRYPTO_INVALID_PRIVATE_KEY`, `CRYPTO_INVALID_ARGUMENT`
   */
  ecdsaSign(msgHash32: Uint8Array, privateKey32: Uint8Array, extraEntropy?: Uint8Array): EcdsaSignature
  /**
   * Recovers the signer's public key from a 64-byte `r ‖ s` signature and its recovery id (0 or 1).
   * High-s signatures are accepted (the EVM precompile does); reject them yourself where EIP-2 applies.
   * @returns 65 bytes `0x04 ‖ x ‖ y` (default) or 33 bytes compressed when `compressed` is true.
   * @throws CairnError `CRYPTO_INVALID_SIGNATURE`, `CRYPTO_INVALID_HASH`
   */
  ecdsaRecover(sig64: Uint8Array, recovery: number, msgHash32: Uint8Array, compressed?: boolean): Uint8Array
  /**
   * Public key of a private key: 65 bytes `0x04 ‖ x ‖ y`, or 33 bytes when `compressed`.
   * @throws CairnError `CRYPTO_INVALID_PRIVATE_KEY`
   */
  privateKeyToPublicKey(privateKey32: Uint8Array, compressed?: boolean): Uint8Array
  /**
   * Ethereum address (20 bytes): last 20 bytes of keccak256 of the 64-byte `x ‖ y` key.
   * Accepts 64 bytes (raw), 65 bytes (`0x04` prefix) or 33 bytes (compressed, decompressed first;
   * this one also checks the point is on the curve, the others are only length/prefix checked).
   * @throws CairnError `CRYPTO_INVALID_PUBLIC_KEY`
   */
  publicKeyToAddress(publicKey: Uint8Array): Uint8Array
  /**
   * Ethereum address (20 bytes) of a private key.
   * @throws CairnError `CRYPTO_INVALID_PRIVATE_KEY`
   */
  privateKeyToAddress(privateKey32: Uint8Array): Uint8Array
  /** True when `privateKey` is a Uint8Array of 32 bytes in [1, n-1]. Never throws. */
  isValidPrivateKey(privateKey: unknown): boolean
}

/** The raw operations an engine provides; inputs are already validated when these are called. */
interface Engine {
  readonly name: Secp256k1BackendName
  isValidPrivateKey(pk: Uint8Array): boolean
  sign(msg: Uint8Array, pk: Uint8Array, extraEntropy: Uint8Array | undefined): { sig: Uint8Array; recovery: number }
  recover(sig: Uint8Array, recovery: number, msg: Uint8Array, compressed: boolean): Uint8Array
  publicKey(pk: Uint8Array, compressed: boolean): Uint8Array
  convertPublicKey(pub: Uint8Array, compressed: boolean): Uint8Array
}

/** The curve order n, big-endian. */
const CURVE_ORDER = noble.CURVE.n
const CURVE_ORDER_BYTES = bigIntTo32(CURVE_ORDER)

function bigIntTo32(v: bigint): Uint8Array {
  const out = new Uint8Array(32)
  let x = v
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn)
    x >>= 8n
  }
  return out
}

/** -1, 0, 1 comparing two 32-byte big-endian numbers. */
function compare32(a: Uint8Array, aOffset: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[aOffset + i] as number
    const y = b[i] as number
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

function isZero32(a: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) if (a[offset + i] !== 0) return false
  return true
}

/** A 32-byte scalar in [1, n-1]. */
function isValidScalar(a: Uint8Array, offset: number): boolean {
  return !isZero32(a, offset) && compare32(a, offset, CURVE_ORDER_BYTES) < 0
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

const jsEngine: Engine = {
  name: 'js',
  isValidPrivateKey: (pk) => isValidScalar(pk, 0),
  sign(msg, pk, extraEntropy) {
    const sig = noble.sign(msg, pk, { lowS: true, extraEntropy: extraEntropy ?? false })
    return { sig: sig.toCompactRawBytes(), recovery: sig.recovery }
  },
  recover(sig, recovery, msg, compressed) {
    return noble.Signature.fromCompact(sig).addRecoveryBit(recovery).recoverPublicKey(msg).toRawBytes(compressed)
  },
  publicKey: (pk, compressed) => noble.getPublicKey(pk, compressed),
  convertPublicKey: (pub, compressed) => noble.ProjectivePoint.fromHex(pub).toRawBytes(compressed),
}

/** The subset of the `secp256k1` v5 addon API used here (see node_modules/secp256k1/lib/index.js). */
interface NativeBinding {
  privateKeyVerify(seckey: Uint8Array): boolean
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array
  publicKeyConvert(pubkey: Uint8Array, compressed?: boolean): Uint8Array
  ecdsaSign(
    msg32: Uint8Array,
    seckey: Uint8Array,
    options?: { data?: Uint8Array },
  ): { signature: Uint8Array; recid: number }
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

/**
 * libsecp256k1 (as bundled in secp256k1@5) feeds the *unreduced* message into its RFC 6979 nonce,
 * while RFC 6979 (and noble) use `bits2octets(h) = h mod n`. For hashes >= n (probability ~2^-128)
 * that gives a different — still valid — signature. Reducing first makes both engines identical;
 * the signature itself is unchanged because ECDSA only uses `h mod n`.
 */
function reduceMsgHash(msg: Uint8Array): Uint8Array {
  if (compare32(msg, 0, CURVE_ORDER_BYTES) < 0) return msg
  let v = 0n
  for (const b of msg) v = (v << 8n) | BigInt(b)
  return bigIntTo32(v - CURVE_ORDER)
}

function createNativeEngine(binding: NativeBinding): Engine {
  return {
    name: 'native',
    isValidPrivateKey: (pk) => binding.privateKeyVerify(pk),
    sign(msg, pk, extraEntropy) {
      const out = binding.ecdsaSign(reduceMsgHash(msg), pk, extraEntropy === undefined ? {} : { data: extraEntropy })
      return { sig: out.signature, recovery: out.recid }
    },
    recover: (sig, recovery, msg, compressed) => binding.ecdsaRecover(sig, recovery, msg, compressed),
    publicKey: (pk, compressed) => binding.publicKeyCreate(pk, compressed),
    convertPublicKey: (pub, compressed) => binding.publicKeyConvert(pub, compressed),
  }
}

// ---------------------------------------------------------------------------------------------
// Validation layer (shared by both engines)
// ---------------------------------------------------------------------------------------------

function assertPrivateKey(engine: Engine, pk: unknown): asserts pk is Uint8Array {
  assertBytes(pk, 'private key', 32, CryptoErrorCode.INVALID_PRIVATE_KEY)
  if (!engine.isValidPrivateKey(pk)) {
    throw cryptoError(
      CryptoErrorCode.INVALID_PRIVATE_KEY,
      'private key is zero or not below the secp256k1 curve order',
      {
        hint: 'use 32 random bytes in [1, n-1], e.g. from generateMnemonic()/mnemonicToPrivateKey()',
      },
    )
  }
}

function assertMsgHash(msg: unknown): asserts msg is Uint8Array {
  assertBytes(msg, 'message hash', 32, CryptoErrorCode.INVALID_HASH)
}

function makeBackend(engine: Engine): Secp256k1Backend {
  const toAddress = (pub64: Uint8Array): Uint8Array => keccak256(pub64).slice(12)

  const backend: Secp256k1Backend = {
    name: engine.name,

    ecdsaSign(msgHash32, privateKey32, extraEntropy) {
      assertMsgHash(msgHash32)
      assertPrivateKey(engine, privateKey32)
      if (extraEntropy !== undefined) assertBytes(extraEntropy, 'extraEntropy', 32)
      let out: { sig: Uint8Array; recovery: number }
      try {
        out = engine.sign(msgHash32, privateKey32, extraEntropy)
      } catch (err) {
        throw cryptoError(CryptoErrorCode.INVALID_PRIVATE_KEY, `signing failed: ${errorMessage(err)}`, { cause: err })
      }
      return { r: out.sig.slice(0, 32), s: out.sig.slice(32, 64), recovery: out.recovery === 1 ? 1 : 0 }
    },

    ecdsaRecover(sig64, recovery, msgHash32, compressed = false) {
      assertBytes(sig64, 'signature', 64, CryptoErrorCode.INVALID_SIGNATURE)
      assertMsgHash(msgHash32)
      if (recovery !== 0 && recovery !== 1) {
        throw cryptoError(CryptoErrorCode.INVALID_SIGNATURE, `recovery id must be 0 or 1, got ${String(recovery)}`, {
          hint: 'derive it from v: v - 27 for legacy pre-EIP-155, v - (2 * chainId + 35) for EIP-155, v itself for typed txs',
          meta: { recovery },
        })
      }
      if (!isValidScalar(sig64, 0) || !isValidScalar(sig64, 32)) {
        throw cryptoError(CryptoErrorCode.INVALID_SIGNATURE, 'signature r and s must both be in [1, n-1]', {
          meta: { zeroR: isZero32(sig64, 0), zeroS: isZero32(sig64, 32) },
        })
      }
      try {
        return engine.recover(sig64, recovery, msgHash32, compressed)
      } catch (err) {
        throw cryptoError(
          CryptoErrorCode.INVALID_SIGNATURE,
          'no public key can be recovered from this signature and hash',
          {
            cause: err,
            hint: 'check the recovery id and that the hash is the one that was signed',
          },
        )
      }
    },

    privateKeyToPublicKey(privateKey32, compressed = false) {
      assertPrivateKey(engine, privateKey32)
      return engine.publicKey(privateKey32, compressed)
    },

    publicKeyToAddress(publicKey) {
      assertBytes(publicKey, 'public key', undefined, CryptoErrorCode.INVALID_PUBLIC_KEY)
      if (publicKey.length === 64) return toAddress(publicKey)
      if (publicKey.length === 65 && publicKey[0] === 0x04) return toAddress(publicKey.subarray(1))
      if (publicKey.length === 33 && (publicKey[0] === 0x02 || publicKey[0] === 0x03)) {
        let full: Uint8Array
        try {
          full = engine.convertPublicKey(publicKey, false)
        } catch (err) {
          throw cryptoError(CryptoErrorCode.INVALID_PUBLIC_KEY, 'compressed public key is not a point on secp256k1', {
            cause: err,
          })
        }
        return toAddress(full.subarray(1))
      }
      throw cryptoError(
        CryptoErrorCode.INVALID_PUBLIC_KEY,
        `public key must be 64 bytes (x ‖ y), 65 bytes starting with 0x04, or 33 bytes starting with 0x02/0x03; got ${publicKey.length} bytes`,
        { meta: { length: publicKey.length, prefix: publicKey[0] } },
      )
    },

    privateKeyToAddress(privateKey32) {
      assertPrivateKey(engine, privateKey32)
      return toAddress(engine.publicKey(privateKey32, false).subarray(1))
    },

    isValidPrivateKey(privateKey) {
      return privateKey instanceof Uint8Array && privateKey.length === 32 && engine.isValidPrivateKey(privateKey)
    },
  }
  return Object.freeze(backend)
}

// ---------------------------------------------------------------------------------------------
// Backend selection
// ---------------------------------------------------------------------------------------------

let nativeLoadError: string | undefined

/** ecdsaSign(msg = 0x22 × 32, key = 0x11 × 32), deterministic (RFC 6979). */
export const SELF_CHECK = {
  r: 'cfd18ee918d6729134adbc61212142cf71fcf186dfc3123cfca8f7062e0fad5a',
  s: '703cc467d9857349ddb6e148bd1663f5050f3f6b9d788d64349c357f14eb4a5f',
  recovery: 0,
} as const

function bytesToHexPlain(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

function loadNative(): Secp256k1Backend | null {
  try {
    const binding = createRequire(import.meta.url)('secp256k1/bindings') as NativeBinding
    const backend = makeBackend(createNativeEngine(binding))
    // Self-check before trusting the addon: a known answer, the RFC 6979 signature @noble/curves
    // gives (test/secp256k1 checks it still does). Signing with @noble/curves here instead cost
    // ~70 ms at every start (its first signature builds its precomputed tables).
    const pk = new Uint8Array(32).fill(0x11)
    const msg = new Uint8Array(32).fill(0x22)
    const a = backend.ecdsaSign(msg, pk)
    const same =
      a.recovery === SELF_CHECK.recovery &&
      bytesToHexPlain(a.r) === SELF_CHECK.r &&
      bytesToHexPlain(a.s) === SELF_CHECK.s
    if (!same) {
      nativeLoadError = 'native secp256k1 self-check failed (signature differs from @noble/curves)'
      return null
    }
    return backend
  } catch (err) {
    nativeLoadError = errorMessage(err)
    return null
  }
}

/** The pure-JS backend (@noble/curves). Always available. */
export const jsSecp256k1: Secp256k1Backend = makeBackend(jsEngine)

/** The libsecp256k1 backend, or null when the native addon could not be loaded on this platform. */
export const nativeSecp256k1: Secp256k1Backend | null = loadNative()

const forceJs = process.env.CAIRN_SECP256K1_BACKEND === 'js'

/** The backend used by the module-level functions: native when loaded (and not forced off), else JS. */
export const secp256k1: Secp256k1Backend = nativeSecp256k1 !== null && !forceJs ? nativeSecp256k1 : jsSecp256k1

/** Name of the default backend. */
export const secp256k1Backend: Secp256k1BackendName = secp256k1.name

/** Why the native addon is not used (load error, failed self-check, or forced by env); undefined when it is. */
export const secp256k1FallbackReason: string | undefined =
  secp256k1.name === 'native'
    ? undefined
    : forceJs && nativeSecp256k1 !== null
      ? 'CAIRN_SECP256K1_BACKEND=js'
      : nativeLoadError

/** {@link Secp256k1Backend.ecdsaSign} on the default backend. */
export function ecdsaSign(msgHash32: Uint8Array, privateKey32: Uint8Array, extraEntropy?: Uint8Array): EcdsaSignature {
  return secp256k1.ecdsaSign(msgHash32, privateKey32, extraEntropy)
}

/** {@link Secp256k1Backend.ecdsaRecover} on the default backend. */
export function ecdsaRecover(
  sig64: Uint8Array,
  recovery: number,
  msgHash32: Uint8Array,
  compressed = false,
): Uint8Array {
  return secp256k1.ecdsaRecover(sig64, recovery, msgHash32, compressed)
}

/** {@link Secp256k1Backend.privateKeyToPublicKey} on the default backend. */
export function privateKeyToPublicKey(privateKey32: Uint8Array, compressed = false): Uint8Array {
  return secp256k1.privateKeyToPublicKey(privateKey32, compressed)
}

/** {@link Secp256k1Backend.publicKeyToAddress} on the default backend. */
export function publicKeyToAddress(publicKey: Uint8Array): Uint8Array {
  return secp256k1.publicKeyToAddress(publicKey)
}

/** {@link Secp256k1Backend.privateKeyToAddress} on the default backend. */
export function privateKeyToAddress(privateKey32: Uint8Array): Uint8Array {
  return secp256k1.privateKeyToAddress(privateKey32)
}

/** {@link Secp256k1Backend.isValidPrivateKey} on the default backend. */
export function isValidPrivateKey(privateKey: unknown): boolean {
  return secp256k1.isValidPrivateKey(privateKey)
}
