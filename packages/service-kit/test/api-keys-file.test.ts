import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defineRoles, readApiKeysFile } from '../src/index.ts'

const ROLES = defineRoles(['viewer', 'operator', 'admin'] as const, { ordered: true })
const dir = mkdtempSync(join(tmpdir(), 'cairn-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('readApiKeysFile (a service’s --api-keys-file)', () => {
  it('reads {name, role, key} entries with the service’s roles', () => {
    const p = file('ok.json', JSON.stringify([{ name: 'ops', role: 'operator', key: 'k'.repeat(32) }]))
    expect(readApiKeysFile(p, ROLES)).toEqual([{ name: 'ops', role: 'operator', key: 'k'.repeat(32) }])
  })

  it('refuses, as the caller’s mistake naming the file: no file, not JSON, an unknown role, a short key', () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.json'), /cannot read the API keys file .*missing\.json as JSON/],
      [file('bad.json', '{not json'), /cannot read the API keys file .*bad\.json as JSON/],
      [
        file('role.json', JSON.stringify([{ name: 'x', role: 'root', key: 'k'.repeat(32) }])),
        /bad API keys file .*role/,
      ],
      [file('short.json', JSON.stringify([{ name: 'x', role: 'admin', key: 'short' }])), /at least 16 characters/],
    ]
    for (const [p, message] of cases) {
      let err: unknown
      try {
        readApiKeysFile(p, ROLES)
      } catch (e) {
        err = e
      }
      expect(err, p).toMatchObject({ code: 'SERVICE_CONFIG_INVALID', fault: 'caller' })
      expect((err as Error).message, p).toMatch(message)
    }
  })
})
