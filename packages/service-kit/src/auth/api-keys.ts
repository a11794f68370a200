import { createHash, timingSafeEqual } from 'node:crypto'

/** An API key as configured: its name, the sha256 of the key (hex) and its role. Never the key. */
export interface ApiKeyEntry<R extends string = string> {
  name: string
  keyHash: string
  role: R
}

/** sha256 of a key as lower-case hex (what a key table holds instead of the key). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/**
 * The entry whose hash matches `key`, or undefined. Every entry is compared, each in constant
 * time (`timingSafeEqual` of the sha256 digests), so neither the match nor its position leaks
 * through timing.
 */
export function findApiKey<E extends { keyHash: string }>(entries: readonly E[], key: string): E | undefined {
  const hash = Buffer.from(hashApiKey(key), 'hex')
  let found: E | undefined
  for (const e of entries) {
    const want = Buffer.from(e.keyHash.toLowerCase(), 'hex')
    if (want.length === hash.length && timingSafeEqual(want, hash)) found = e
  }
  return found
}
