import { sha256 } from '@noble/hashes/sha2'
import { keccak_256 } from '@noble/hashes/sha3'

/** The hash functions a proof may name in its `hash` field. */
export type HashName = 'sha256' | 'keccak256'

/** The hash names of proof format v1. */
export const HASH_NAMES: readonly HashName[] = ['sha256', 'keccak256']

/** A one-shot hash function: bytes in, 32 bytes out. */
export type HashFn = (data: Uint8Array) => Uint8Array

/** The pure-JS hash (runs anywhere: Node, browsers, workers) for a proof's `hash` name. */
export function portableHash(name: HashName): HashFn {
  return name === 'sha256' ? (d) => sha256(d) : (d) => keccak_256(d)
}
