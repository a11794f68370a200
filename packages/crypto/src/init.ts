/**
 * One-time asynchronous setup: loads the optional WASM keccak. Everything in this package works
 * without it (on the pure-JS fallbacks); calling it just makes hashing faster.
 */
import { type KeccakBackend, keccakBackend, keccakLoadError, loadWasmKeccak } from './keccak.ts'
import { type Secp256k1BackendName, secp256k1Backend, secp256k1FallbackReason } from './secp256k1.ts'

/** Which implementations are active, and why a fallback was taken (for the node's startup log). */
export interface CryptoBackends {
  keccak: KeccakBackend
  secp256k1: Secp256k1BackendName
  /** Why keccak runs on JS (WASM failed to load); absent when WASM is active or was never requested. */
  keccakFallbackReason?: string
  /** Why secp256k1 runs on JS (addon missing, self-check failed, or forced); absent when native. */
  secp256k1FallbackReason?: string
}

/** The backends active right now. */
export function cryptoBackends(): CryptoBackends {
  const out: CryptoBackends = { keccak: keccakBackend(), secp256k1: secp256k1Backend }
  const k = keccakLoadError()
  if (out.keccak === 'js' && k !== undefined) out.keccakFallbackReason = k
  if (secp256k1FallbackReason !== undefined) out.secp256k1FallbackReason = secp256k1FallbackReason
  return out
}

/**
 * Loads the WASM keccak (idempotent, concurrent calls share one load) and reports the active
 * backends. Never rejects: a failed load leaves the JS implementation in place.
 */
export async function initCrypto(): Promise<CryptoBackends> {
  await loadWasmKeccak()
  return cryptoBackends()
}
