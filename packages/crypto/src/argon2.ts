/**
 * Argon2id (RFC 9106), the memory-hard function of proof of work's seal. hash-wasm's WebAssembly
 * implementation (already this package's keccak back end): each call fills `memoryKiB` of fresh
 * memory, so an attempt costs that much memory bandwidth on any hardware. `jsArgon2id` is
 * @noble/hashes' pure-JS implementation of the same function (several times slower), kept for the
 * differential test and the bench.
 */
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2'
import { argon2id as wasmArgon2id } from 'hash-wasm'
import { assertBytes, CryptoErrorCode, cryptoError } from './errors.ts'

/** Argon2id's cost parameters and output length. */
export interface Argon2idParams {
  /** Memory filled per call, in KiB (at least 8 × parallelism). */
  memoryKiB: number
  /** Passes over the memory (at least 1). */
  iterations: number
  /** Lanes (default 1: a seal's work is not meant to be split across cores). */
  parallelism?: number
  /** Output bytes (default 32). */
  hashLength?: number
}

/** Argon2id of `password` with `salt` (at least 8 bytes), `hashLength` bytes. */
export async function argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<Uint8Array> {
  const p = checkParams(password, salt, params)
  return wasmArgon2id({
    password,
    salt,
    memorySize: p.memoryKiB,
    iterations: p.iterations,
    parallelism: p.parallelism,
    hashLength: p.hashLength,
    outputType: 'binary',
  })
}

/** {@link argon2id} with @noble/hashes' pure-JS implementation (same output; slower). */
export function jsArgon2id(password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Uint8Array {
  const p = checkParams(password, salt, params)
  return nobleArgon2id(password, salt, { m: p.memoryKiB, t: p.iterations, p: p.parallelism, dkLen: p.hashLength })
}

function checkParams(password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Required<Argon2idParams> {
  assertBytes(password, 'password')
  assertBytes(salt, 'salt')
  const p = { parallelism: 1, hashLength: 32, ...params }
  const bad = (what: string) =>
    cryptoError(CryptoErrorCode.INVALID_ARGUMENT, `argon2id: ${what}`, {
      hint: 'RFC 9106: a password, salt ≥ 8 bytes, 1 ≤ parallelism < 2^24, memory ≥ 8 KiB × parallelism, iterations ≥ 1, output ≥ 4 bytes',
    })
  if (salt.length < 8) throw bad(`the salt must be at least 8 bytes, got ${salt.length}`)
  // RFC 9106 allows an empty password; hash-wasm does not (and no caller here needs one)
  if (password.length === 0) throw bad('the password must not be empty')
  for (const [k, v] of Object.entries(p)) {
    if (!Number.isSafeInteger(v) || v < 1) throw bad(`${k} must be a positive integer, got ${String(v).slice(0, 20)}`)
  }
  if (p.parallelism >= 2 ** 24) throw bad(`parallelism must be below 2^24, got ${p.parallelism}`)
  if (p.memoryKiB < 8 * p.parallelism || p.memoryKiB >= 2 ** 32) {
    throw bad(`memoryKiB must be in [8 × parallelism, 2^32), got ${p.memoryKiB}`)
  }
  if (p.hashLength < 4) throw bad(`hashLength must be at least 4, got ${p.hashLength}`)
  return p
}
