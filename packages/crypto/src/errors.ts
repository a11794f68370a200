/**
 * Stable error codes thrown by @cairn/crypto, and the one helper that builds them.
 *
 * Codes are part of the public contract: transports map them to their own numbers, tests match on
 * them, and they are never reused for a different meaning once published.
 */
import { CairnError, type CairnErrorOptions } from '@cairn/utils'

/** Every error code this package throws on purpose. */
export const CryptoErrorCode = {
  /** A private key is not 32 bytes, is zero, or is not below the curve order. */
  INVALID_PRIVATE_KEY: 'CRYPTO_INVALID_PRIVATE_KEY',
  /** A public key has the wrong length/prefix or is not a point on secp256k1. */
  INVALID_PUBLIC_KEY: 'CRYPTO_INVALID_PUBLIC_KEY',
  /** A signature is malformed (length, r/s range, recovery id, v) or no key can be recovered. */
  INVALID_SIGNATURE: 'CRYPTO_INVALID_SIGNATURE',
  /** A message hash passed to sign/recover is not 32 bytes. */
  INVALID_HASH: 'CRYPTO_INVALID_HASH',
  /** A BIP-39 mnemonic is not valid English BIP-39 (unknown word, bad length, bad checksum). */
  INVALID_MNEMONIC: 'CRYPTO_INVALID_MNEMONIC',
  /** A BIP-32 derivation path cannot be parsed or derived. */
  INVALID_PATH: 'CRYPTO_INVALID_PATH',
  /** An address is not 20 bytes / 40 hex characters. */
  INVALID_ADDRESS: 'CRYPTO_INVALID_ADDRESS',
  /** Any other argument is out of its documented range (strength, count, option values...). */
  INVALID_ARGUMENT: 'CRYPTO_INVALID_ARGUMENT',
  /** An optional backend (the keccak WASM module) was asked for but is not loaded. */
  BACKEND_UNAVAILABLE: 'CRYPTO_BACKEND_UNAVAILABLE',
  /** A keystore JSON does not follow Web3 Secret Storage v3; the message names the field. */
  KEYSTORE_INVALID: 'KEYSTORE_INVALID',
  /** The keystore MAC does not match: the password is wrong (or the file was tampered with). */
  KEYSTORE_BAD_PASSWORD: 'KEYSTORE_BAD_PASSWORD',
  /** Options passed to encryptKeystore are out of range (scrypt n, r, p). */
  KEYSTORE_INVALID_OPTIONS: 'KEYSTORE_INVALID_OPTIONS',
} as const

/** One of the codes in {@link CryptoErrorCode}. */
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode]

/** Builds a CairnError with a code of this package; `fault` defaults to 'caller'. */
export function cryptoError(code: CryptoErrorCode, message: string, opts: CairnErrorOptions = {}): CairnError {
  return new CairnError(code, message, { fault: 'caller', ...opts })
}

/** Throws {@link CryptoErrorCode.INVALID_ARGUMENT} unless `value` is a Uint8Array (of `length` when given). */
export function assertBytes(
  value: unknown,
  name: string,
  length?: number,
  code: CryptoErrorCode = CryptoErrorCode.INVALID_ARGUMENT,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw cryptoError(code, `${name} must be a Uint8Array, got ${describe(value)}`, {
      hint: 'convert hex strings with hexToBytes() from @cairn/utils first',
    })
  }
  if (length !== undefined && value.length !== length) {
    throw cryptoError(code, `${name} must be ${length} bytes, got ${value.length}`, {
      meta: { expected: length, actual: value.length },
    })
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    crypto: CryptoErrorCode
  }
}
