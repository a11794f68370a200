// LevelKV's `multithreading` (classic-level's option; the RPC read threads use it): every opener of
// a path in the process shares one LevelDB handle, so a second opener sees the first one's writes
// at once and closing one leaves the other working; without it the second open fails on the lock.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LevelKV } from '../src/index.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'cairn-kv-mt-'))
  dirs.push(d)
  return d
}
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b))

describe('LevelKV multithreading', () => {
  it('shares one handle between openers of the same path', async () => {
    const path = fresh()
    const writer = new LevelKV({ path, multithreading: true })
    await writer.open()
    const reader = new LevelKV({ path, multithreading: true })
    await reader.open()
    await writer.batch([{ type: 'put', key: bytes('k'), value: bytes('v1') }])
    expect(text(await reader.get(bytes('k')))).toBe('v1')
    await writer.put(bytes('k'), bytes('v2'))
    expect(text(reader.getSync(bytes('k')))).toBe('v2')
    await reader.close()
    expect(text(await writer.get(bytes('k')))).toBe('v2')
    await writer.close()
  })

  it('without it, a second opener is refused while the first holds the lock', async () => {
    const path = fresh()
    const first = new LevelKV({ path })
    await first.open()
    const second = new LevelKV({ path })
    await expect(second.open()).rejects.toMatchObject({ code: 'DB_OPEN_FAILED' })
    await first.close()
  })
})
