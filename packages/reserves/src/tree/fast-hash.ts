import { hash } from 'node:crypto'
import { keccak256 } from '@cairn/crypto'
import type { HashFn, HashName } from '../verifier/hash.ts'

/** The fastest implementation of `name` on Node (OpenSSL SHA-256; hash-wasm Keccak-256). */
export function fastHash(name: HashName): HashFn {
  if (name === 'keccak256') return keccak256
  return (d) => new Uint8Array(hash('sha256', d, 'buffer'))
}
