// `cairn arb`'s secrets through service-kit's one face, as a process: a world-readable secret file
// is refused before anything starts (as the keystores refuse theirs), an env: reference and an
// age-encrypted bundle are read, and the token minted from each verifies with the same secret.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyHs256 } from '@cairn/service-kit'
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../packages/node/test/cli/run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'arb-secrets-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SECRET = 's'.repeat(40)
const token = (args: string[], env: Record<string, string> = {}) =>
  runCli(['arb', 'token', '--role', 'admin', '--sub', 'ops', ...args], { env, timeoutMs: 60_000 })
const verifies = (jwt: string) =>
  verifyHs256(jwt.trim(), new TextEncoder().encode(SECRET), Math.floor(Date.now() / 1000), { requireExp: true })

describe('cairn arb: secrets from a file, env: or an age bundle', () => {
  it('refuses a world-readable secret file, naming its mode', async () => {
    writeFileSync(join(dir, 'open.secret'), SECRET, { mode: 0o644 })
    const open = await token(['--secret-file', join(dir, 'open.secret')])
    expect(open.code).not.toBe(0)
    expect(open.stderr).toMatch(/open\.secret has mode 0644: other users can read or write it/)
    expect(open.stderr).not.toContain(SECRET)
  }, 120_000)

  it('reads env:NAME and age:FILE#NAME', async () => {
    const viaEnv = await token(['--secret-file', 'env:ARB_TEST_JWT'], { ARB_TEST_JWT: SECRET })
    expect(viaEnv.code, viaEnv.stderr).toBe(0)
    expect(verifies(viaEnv.stdout)).toMatchObject({ sub: 'ops', role: 'admin' })
    const identity = await generateIdentity()
    const e = new Encrypter()
    e.addRecipient(await identityToRecipient(identity))
    writeFileSync(join(dir, 'bundle.age'), await e.encrypt(JSON.stringify({ jwt: SECRET })))
    writeFileSync(join(dir, 'id.txt'), `${identity}\n`, { mode: 0o600 })
    const viaAge = await token(['--secret-file', `age:${join(dir, 'bundle.age')}#jwt`], {
      CAIRN_AGE_IDENTITY_FILE: join(dir, 'id.txt'),
    })
    expect(viaAge.code, viaAge.stderr).toBe(0)
    expect(verifies(viaAge.stdout).sub).toBe('ops')
  }, 120_000)
})
