import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readArgFile } from '../src/cli/read-arg-file.ts'

describe('readArgFile (the CLI file flags: --jwt-secret-file, --secret-file, --token-file, --api-key-file)', () => {
  it('a missing file is a caller error naming the flag and the path, not a raw ENOENT', () => {
    let err: unknown
    try {
      readArgFile('--jwt-secret-file', '/nonexistent/jwt.secret')
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'RESERVES_BAD_OPTIONS', fault: 'caller' })
    expect((err as Error).message).toMatch(/--jwt-secret-file \/nonexistent\/jwt\.secret: ENOENT/)
  })

  it('reads bytes, or text with an encoding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-arg-'))
    try {
      writeFileSync(join(dir, 's'), 'abc')
      expect([...readArgFile('--secret-file', join(dir, 's'))]).toEqual([97, 98, 99])
      expect(readArgFile('--token-file', join(dir, 's'), 'utf8')).toBe('abc')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
