import type { KVStore } from '@cairn/db'
import { Bucket, bytesCodec, Repository } from '@cairn/db'
import { DEFAULT_HARDFORK } from '../rules/common.ts'

const utf8Codec = {
  encode: (s: string) => new TextEncoder().encode(s),
  decode: (b: Uint8Array) => new TextDecoder().decode(b),
}
export const META_GENESIS = 'genesis'
export const META_GENESIS_HASH = 'genesisHash'
export const META_SCHEMA = 'schemaVersion'
/**
 * 1: a genesis naming no fork ran Prague from block 0. 2: it runs the default of this version
 * ({@link DEFAULT_HARDFORK}, Osaka). A datadir keeps the ruleset it was created with.
 */
export const SCHEMA_VERSION = 2
const SCHEMA_DEFAULTS: Record<number, string> = { 1: 'prague', 2: DEFAULT_HARDFORK }

/** The stored genesis JSON, and the default ruleset of the version that created the datadir. */
export async function readStoredGenesis(kv: KVStore): Promise<{ stored: unknown; defaultHardfork: string }> {
  const meta = new Repository(kv, Bucket.meta, utf8Codec, bytesCodec)
  const raw = await meta.get(META_GENESIS)
  const schema = (await meta.get(META_SCHEMA))?.[0] ?? SCHEMA_VERSION
  return {
    stored: raw ? JSON.parse(new TextDecoder().decode(raw)) : undefined,
    defaultHardfork: SCHEMA_DEFAULTS[schema] ?? DEFAULT_HARDFORK,
  }
}
