import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkKeyFilePermissions, loadOrCreateKey } from '@cairn/consensus/validator-keys'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../cli/run-cli.ts'

const dirs: string[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cairn-keys-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('key files', () => {
  it('are created 0600 from the CSPRNG, read back the same, and refused when others can read them', () => {
    const path = join(temp(), 'keys', 'validator.key')
    const created = loadOrCreateKey(path, 'validator key')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(created.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(created.address).not.toBe(created.address.toLowerCase())
    expect(loadOrCreateKey(path, 'validator key').address).toBe(created.address)
    expect(loadOrCreateKey(join(temp(), 'k'), 'validator key').address).not.toBe(created.address)
    chmodSync(path, 0o644)
    expect(() => checkKeyFilePermissions(path, 'validator key')).toThrow(
      /mode 0644: it is readable or writable by other users/,
    )
  })

  it('a validator key with mode 0644 stops `cairn start` with a clear message', async () => {
    const datadir = temp()
    mkdirSync(join(datadir, 'keys'), { recursive: true })
    const path = join(datadir, 'keys', 'validator.key')
    writeFileSync(path, `${'11'.repeat(32)}\n`, { mode: 0o644 })
    chmodSync(path, 0o644)
    const r = await runCli(['start', '--dev', '--datadir', datadir, '--http.port', '0'])
    expect(r.listening).toBe(false)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`error: validator key ${path} has mode 0644`)
    expect(r.stderr).toContain(`chmod 600 ${path}`)
    chmodSync(path, 0o600)
    const ok = await runCli(['start', '--dev', '--datadir', datadir, '--http.port', '0'])
    expect(ok.listening).toBe(true)
    expect(readFileSync(join(datadir, 'keys', 'node.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/)
    expect(statSync(join(datadir, 'keys', 'node.key')).mode & 0o777).toBe(0o600)
  }, 60_000)
})
