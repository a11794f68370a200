/**
 * A `customCrypto` for @ethereumjs (v10): pass `createCustomCrypto()` as `new Common({ chain,
 * customCrypto })` and every tx hash, signature, sender recovery, ecrecover precompile and SHA-256
 * precompile of @ethereumjs/{tx,block,evm,vm} runs on this package's backends (libsecp256k1 and
 * WASM keccak when available).
 *
 * The contract is declared here structurally instead of importing @ethereumjs types. It mirrors what
 * the v10 call sites do at runtime (not only the .d.ts):
 * - `ecrecover(msgHash, v, r, s, chainId?)` mirrors `@ethereumjs/util`'s `ecrecover`: `r`/`s` may be
 *   unpadded (≤ 32 bytes), the recovery id is `v` when v is 0/1, `v - 27` without chainId, else
 *   `v - (2 * chainId + 35)`; the result is the 64-byte public key *without* the 0x04 prefix.
 * - `ecsign(msg, privateKey, opts)` mirrors @noble/curves v2 `secp256k1.sign`: it returns bytes,
 *   not an object. @ethereumjs/tx calls it with `{ format: 'recovered', prehash: false, extraEntropy }`
 *   and decodes `recovery ‖ r ‖ s` (65 bytes) with noble's `Signature.fromBytes(sig, 'recovered')`.
 *   Like noble v2, `prehash` defaults to true (sha256 of `msg`), `format` to 'compact', `lowS` to true.
 * - `ecdsaRecover(sig, recId, hash, compressed = true)` mirrors ethereum-cryptography's
 *   `secp256k1-compat` `ecdsaRecover` (used by @ethereumjs/devp2p, which passes `false`).
 */

import { randomBytes } from 'node:crypto'
import { concatBytes, errorMessage } from '@cairn/utils'
import { secp256k1 as noble } from '@noble/curves/secp256k1'
import { assertBytes, CryptoErrorCode, cryptoError } from './errors.ts'
import { keccak256, sha256 } from './keccak.ts'
import { type KzgBackend, lazyKzg } from './kzg.ts'
import { secp256k1 as defaultBackend, type Secp256k1Backend } from './secp256k1.ts'

/** Options accepted by {@link CairnCustomCrypto.ecsign}, as in @noble/curves v2 `sign`. */
export interface EcsignOptions {
  /** Hash `msg` with SHA-256 before signing. Default true (noble v2); @ethereumjs passes false. */
  prehash?: boolean
  /** Normalise s to the lower half. Default true. */
  lowS?: boolean
  /** Output encoding. 'recovered' is `recovery ‖ r ‖ s` (65 bytes); 'compact' is `r ‖ s`. Default 'compact'. */
  format?: 'compact' | 'recovered' | 'der'
  /** RFC 6979 §3.6 extra entropy: true for 32 random bytes, or explicit bytes. Default false. */
  extraEntropy?: boolean | Uint8Array
}

/** Structurally compatible with `CustomCrypto` of @ethereumjs/common 10.x. */
export interface CairnCustomCrypto {
  keccak256(msg: Uint8Array): Uint8Array
  sha256(msg: Uint8Array): Uint8Array
  ecrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array
  ecsign(msg: Uint8Array, privateKey: Uint8Array, opts?: EcsignOptions): Uint8Array
  ecdsaRecover(sig: Uint8Array, recId: number, hash: Uint8Array, compressed?: boolean): Uint8Array
  /** EIP-4844 KZG (the 0x0a point-evaluation precompile); loaded on first use. */
  kzg: KzgBackend
}

/** Options of {@link createCustomCrypto}. */
export interface CustomCryptoOptions {
  /** secp256k1 backend to use; defaults to the package default (native when available). */
  backend?: Secp256k1Backend
}

/**
 * Recovery id from `v` exactly as @ethereumjs/util's `calculateSigRecovery`: 0/1 pass through,
 * otherwise `v - 27` (no chainId) or `v - (2 * chainId + 35)` (EIP-155).
 */
export function recoveryFromV(v: bigint, chainId?: bigint): bigint {
  if (v === 0n || v === 1n) return v
  if (chainId === undefined) return v - 27n
  return v - (chainId * 2n + 35n)
}

function leftPad32(bytes: Uint8Array, name: string): Uint8Array {
  assertBytes(bytes, name, undefined, CryptoErrorCode.INVALID_SIGNATURE)
  if (bytes.length > 32) {
    throw cryptoError(
      CryptoErrorCode.INVALID_SIGNATURE,
      `signature ${name} must be at most 32 bytes, got ${bytes.length}`,
    )
  }
  if (bytes.length === 32) return bytes
  const out = new Uint8Array(32)
  out.set(bytes, 32 - bytes.length)
  return out
}

function encodeSignature(
  r: Uint8Array,
  s: Uint8Array,
  recovery: number,
  format: 'compact' | 'recovered' | 'der',
): Uint8Array {
  if (format === 'recovered') return concatBytes(Uint8Array.of(recovery), r, s)
  if (format === 'compact') return concatBytes(r, s)
  return noble.Signature.fromCompact(concatBytes(r, s)).toDERRawBytes()
}

/**
 * Builds the `customCrypto` object for `new Common({ chain, customCrypto })`.
 * `kzg` is micro-eth-signer's over the ceremony's trusted setup, loaded on first use (see kzg.ts).
 */
export function createCustomCrypto(opts: CustomCryptoOptions = {}): CairnCustomCrypto {
  const backend = opts.backend ?? defaultBackend

  return {
    keccak256: (msg) => keccak256(msg),
    sha256: (msg) => sha256(msg),

    ecrecover(msgHash, v, r, s, chainId) {
      const sig = concatBytes(leftPad32(r, 'r'), leftPad32(s, 's'))
      const recovery = recoveryFromV(v, chainId)
      if (recovery !== 0n && recovery !== 1n) {
        throw cryptoError(
          CryptoErrorCode.INVALID_SIGNATURE,
          `invalid signature v value ${v}${chainId === undefined ? '' : ` for chain id ${chainId}`}`,
          {
            hint: 'v must be 0/1 (typed txs), 27/28 (legacy) or 2 * chainId + 35/36 (EIP-155)',
            meta: { v: v.toString(), chainId: chainId?.toString() },
          },
        )
      }
      return backend.ecdsaRecover(sig, Number(recovery), msgHash, false).slice(1)
    },

    ecsign(msg, privateKey, signOpts = {}) {
      const { prehash = true, lowS = true, format = 'compact', extraEntropy = false } = signOpts
      if (format !== 'compact' && format !== 'recovered' && format !== 'der') {
        throw cryptoError(
          CryptoErrorCode.INVALID_ARGUMENT,
          `signature format must be "compact", "recovered" or "der", got ${String(format)}`,
        )
      }
      assertBytes(msg, 'message', undefined, CryptoErrorCode.INVALID_HASH)
      const hash = prehash ? sha256(msg) : msg
      const entropy =
        extraEntropy === true ? new Uint8Array(randomBytes(32)) : extraEntropy === false ? undefined : extraEntropy
      if (entropy !== undefined) assertBytes(entropy, 'extraEntropy')

      // Fast path: the backend handles exactly 32-byte hashes, low-s, and 32-byte entropy.
      if (hash.length === 32 && lowS && (entropy === undefined || entropy.length === 32)) {
        const sig = backend.ecdsaSign(hash, privateKey, entropy)
        return encodeSignature(sig.r, sig.s, sig.recovery, format)
      }
      // General path (non-32-byte hash, lowS: false, odd-sized entropy): noble, as @ethereumjs would.
      if (!backend.isValidPrivateKey(privateKey)) {
        throw cryptoError(CryptoErrorCode.INVALID_PRIVATE_KEY, 'private key must be 32 bytes in [1, n-1]')
      }
      try {
        const sig = noble.sign(hash, privateKey, { lowS, prehash: false, extraEntropy: entropy ?? false })
        const compact = sig.toCompactRawBytes()
        return encodeSignature(compact.subarray(0, 32), compact.subarray(32), sig.recovery, format)
      } catch (err) {
        throw cryptoError(CryptoErrorCode.INVALID_ARGUMENT, `signing failed: ${errorMessage(err)}`, { cause: err })
      }
    },

    ecdsaRecover(sig, recId, hash, compressed = true) {
      return backend.ecdsaRecover(sig, recId, hash, compressed)
    },

    kzg: lazyKzg(),
  }
}
