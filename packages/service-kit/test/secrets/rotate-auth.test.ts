// A service's HS256 secret and API keys rotated without a restart: the file changes, the watcher
// hands the new value to Authenticator.rotate, and from then on only the new credentials pass —
// including a token under the old secret that the authenticator had remembered.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { Authenticator, defineRoles, hashApiKey, Secrets, signHs256 } from '../../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-rotate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ROLES = defineRoles(['viewer', 'admin'] as const, { ordered: true })

function replace(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content, { mode: 0o600 })
  renameSync(`${path}.tmp`, path)
}

it('a rotated JWT secret and API key take effect on the next request; the old ones are refused', async () => {
  const secretFile = join(dir, 'jwt.secret')
  const keysFile = join(dir, 'api-keys')
  replace(secretFile, 'a'.repeat(32))
  replace(keysFile, 'old-key-0123456789')
  const secrets = new Secrets({ pollMs: 20 })
  const secret = await secrets.read(secretFile, '--jwt-secret-file')
  const key = await secrets.readText(keysFile, '--api-key-file')
  const auth = new Authenticator(ROLES, {
    apiKeys: [{ name: 'ops', role: 'admin', keyHash: hashApiKey(key) }],
    hs256: { secret, requireExp: true, defaultRole: null },
    jwks: null,
    tokenCache: 100,
  })
  const now = Math.floor(Date.now() / 1000)
  const token = (s: string) => signHs256({ sub: 'me', role: 'admin', exp: now + 600 }, new TextEncoder().encode(s))
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
  const oldToken = token('a'.repeat(32))
  expect(await auth.authenticate(bearer(oldToken))).toMatchObject({ role: 'admin' }) // and now remembered
  expect(await auth.authenticate({ 'x-api-key': 'old-key-0123456789' })).toMatchObject({ name: 'ops' })

  let rotations = 0
  const watches = [
    secrets.watch(secretFile, '--jwt-secret-file', secret, (s) => {
      auth.rotate({ hs256Secret: s })
      rotations++
    }),
    secrets.watch(keysFile, '--api-key-file', new TextEncoder().encode(key), (k) => {
      auth.rotate({ apiKeys: [{ name: 'ops', role: 'admin', keyHash: hashApiKey(new TextDecoder().decode(k)) }] })
      rotations++
    }),
  ]
  try {
    replace(secretFile, 'b'.repeat(32))
    replace(keysFile, 'new-key-0123456789')
    const end = Date.now() + 5_000
    while (rotations < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    expect(rotations).toBe(2)
    await expect(auth.authenticate(bearer(oldToken))).rejects.toMatchObject({ code: 'SERVICE_AUTH_INVALID' })
    await expect(auth.authenticate({ 'x-api-key': 'old-key-0123456789' })).rejects.toMatchObject({
      code: 'SERVICE_AUTH_INVALID',
    })
    expect(await auth.authenticate(bearer(token('b'.repeat(32))))).toMatchObject({ role: 'admin' })
    expect(await auth.authenticate({ 'x-api-key': 'new-key-0123456789' })).toMatchObject({ name: 'ops' })
  } finally {
    for (const w of watches) w.stop()
  }
})
