/**
 * Keccak-256 and SHA-256.
 *
 * `keccak256` is synchronous at all times. It starts on the pure-JS @noble/hashes implementation and
 * switches to hash-wasm's WASM keccak (5-20x faster) once {@link loadWasmKeccak} (called by
 * `initCrypto()`) has compiled the module. Both produce identical output; the test suite checks so.
 */
import { createHash } from 'node:crypto'
import { errorMessage } from '@cairn/utils'
import { keccak_256 } from '@noble/hashes/sha3'
import { createKeccak, type IHasher } from 'hash-wasm'
import { CryptoErrorCode, cryptoError } from './errors.ts'

/** Which implementation `keccak256` currently uses. */
export type KeccakBackend = 'wasm' | 'js'

let wasmHasher: IHasher | null = null
let wasmLoading: Promise<KeccakBackend> | null = null
let wasmLoadError: string | undefined

/** Keccak-256 (the Ethereum variant, not NIST SHA3-256) of `data`, 32 bytes. Synchronous. */
export function keccak256(data: Uint8Array): Uint8Array {
  const h = wasmHasher
  if (h !== null) return h.init().update(data).digest('binary')
  return keccak_256(data)
}

/** Keccak-256 with the pure-JS @noble/hashes implementation, whatever the active backend. */
export function jsKeccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data)
}

/**
 * Keccak-256 with the hash-wasm implementation.
 * @throws CairnError `CRYPTO_BACKEND_UNAVAILABLE` when the WASM module is not loaded yet.
 */
export function wasmKeccak256(data: Uint8Array): Uint8Array {
  const h = wasmHasher
  if (h === null) {
    throw cryptoError(CryptoErrorCode.BACKEND_UNAVAILABLE, 'the WASM keccak backend is not loaded', {
      fault: 'internal',
      hint: 'await initCrypto() before calling wasmKeccak256()',
      meta: wasmLoadError === undefined ? undefined : { loadError: wasmLoadError },
    })
  }
  return h.init().update(data).digest('binary')
}

/** The implementation `keccak256` uses right now. */
export function keccakBackend(): KeccakBackend {
  return wasmHasher === null ? 'js' : 'wasm'
}

/** Why the WASM keccak failed to load, if it did (undefined when loaded or never tried). */
export function keccakLoadError(): string | undefined {
  return wasmLoadError
}

/**
 * Compiles hash-wasm's keccak once and makes `keccak256` use it. Never rejects: when WebAssembly is
 * unavailable the JS implementation stays active and the reason is kept in {@link keccakLoadError}.
 * Concurrent calls share one load.
 */
export function loadWasmKeccak(): Promise<KeccakBackend> {
  if (wasmLoading === null) {
    wasmLoading = createKeccak(256).then(
      (hasher) => {
        // Self-check before switching: a broken module must never change consensus-critical hashes.
        const probe = new Uint8Array([0x63, 0x61, 0x69, 0x72, 0x6e])
        const a = hasher.init().update(probe).digest('binary')
        const b = keccak_256(probe)
        if (a.length !== 32 || a.some((v, i) => v !== b[i])) {
          wasmLoadError = 'hash-wasm keccak self-check failed'
          return 'js' as const
        }
        wasmHasher = hasher
        return 'wasm' as const
      },
      (err: unknown) => {
        wasmLoadError = errorMessage(err)
        return 'js' as const
      },
    )
  }
  return wasmLoading
}

/** SHA-256 of `data` (node:crypto / OpenSSL), 32 bytes in a fresh Uint8Array. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}
