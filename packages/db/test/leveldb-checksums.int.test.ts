// A real LevelDB whose tables were damaged one byte every 64 KiB (table-damage.ts), at bytes LevelDB
// parses without a checksum: every read of a damaged block is DB_CORRUPT, told to the sink, and
// every other read returns what was written. Unverified, the first such read aborts the process
// inside LevelDB (`ExtractUserKey: Assertion internal_key.size() >= 8`) — this file's worker with it.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CairnError } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DbErrorCode, LevelKV } from '../src/index.ts'
import { type Damage, damageTable } from './table-damage.ts'

const ENTRIES = 600
const key = (i: number) => new TextEncoder().encode(`entry-${String(i).padStart(5, '0')}`)
/** 1,500 bytes that do not compress (LevelDB then stores the block as it is). */
function value(i: number): Uint8Array {
  const out = new Uint8Array(1500)
  for (let at = 0; at < out.length; at += 32)
    out.set(
      createHash('sha256')
        .update(`${i}:${at}`)
        .digest()
        .subarray(0, Math.min(32, out.length - at)),
      at,
    )
  return out
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('a LevelDB damaged one byte every 64 KiB', () => {
  let dir: string
  let damage: Damage[]
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-db-checksums-'))
    const kv = new LevelKV({ path: dir })
    await kv.open()
    for (let i = 0; i < ENTRIES; i += 100)
      await kv.batch(
        Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: value(i + j) })),
      )
    await kv.close()
    // Reopened once: the write-ahead log becomes a table file.
    const again = new LevelKV({ path: dir })
    await again.open()
    await again.close()
    damage = readdirSync(dir)
      .filter((f) => f.endsWith('.ldb'))
      .flatMap((f) => damageTable(join(dir, f)))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('runs on the binding built from patches/classic-level+3.0.0.patch (npm run build:leveldb)', () => {
    const binding = createRequire(import.meta.url)('classic-level/binding.js') as { cairn_checksum_options?: number }
    expect(binding.cairn_checksum_options, 'run: npx patch-package && npm run build:leveldb').toBe(2)
  })

  it('answers DB_CORRUPT for every entry of a damaged block and the written value for every other', async () => {
    const damagedKeys = new Set(damage.flatMap((d) => d.keys.map(hex)))
    expect(damage.length).toBeGreaterThanOrEqual(10) // ~900 KB of tables: one damaged block per 64 KiB
    expect(damagedKeys.size).toBeGreaterThanOrEqual(10)
    const told: CairnError[] = []
    const kv = new LevelKV({ path: dir }, { onCorruption: (e) => told.push(e) })
    await kv.open()
    const corrupt = new Set<string>()
    try {
      for (let i = 0; i < ENTRIES; i++) {
        try {
          expect(hex((await kv.get(key(i))) ?? new Uint8Array(0))).toBe(hex(value(i)))
        } catch (err) {
          expect((err as CairnError).code).toBe(DbErrorCode.CORRUPT)
          expect((err as Error).message).toMatch(/is corrupted \(LevelDB: Corruption: block checksum mismatch/)
          corrupt.add(hex(key(i)))
        }
      }
      expect([...corrupt].sort()).toEqual([...damagedKeys].sort())
      expect(told.length).toBe(corrupt.size)
      // The synchronous read (the state trie's) refuses the same blocks.
      const first = [...corrupt][0] as string
      expect(() => kv.getSync(new Uint8Array(Buffer.from(first, 'hex')))).toThrow(/block checksum mismatch/)
      // A scan meets the damage too, as DB_CORRUPT.
      await expect(async () => {
        for await (const _ of kv.iterate()) {
          // read on
        }
      }).rejects.toMatchObject({ code: DbErrorCode.CORRUPT })
    } finally {
      await kv.close()
    }
  })
})
