import { createHash, timingSafeEqual } from 'node:crypto'
import type { Role } from './roles.ts'

/** An API key as configured: its name, the sha256 of the key (hex) and its role. Never the key. */
export interface ApiKeyEntry {
  name: string
  keyHash: string
  role: Role
}

/** sha256 of a key as lower-case hex (what `auth.apiKeys[].keyHash` holds). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** The entry whose hash matches `key` (constant-time compare per entry), or undefined. */
export function findApiKey(entries: readonly ApiKeyEntry[], key: string): ApiKeyEntry | undefined {
  const hash = Buffer.from(hashApiKey(key), 'hex')
  let found: ApiKeyEntry | undefined
  for (const e of entries) {
    const want = Buffer.from(e.keyHash.toLowerCase(), 'hex')
    if (want.length === hash.length && timingSafeEqual(want, hash)) found = e
  }
  return found
}
