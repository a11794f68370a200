// `cairn reserves serve`'s secrets through service-kit's one face, as a process: the at-rest key from
// an age-encrypted bundle, and the JWT secret and API key files rotated while it runs — the new
// ones are in force within a poll, the old ones refused, and a world-readable or too-short
// replacement is refused with the old secret kept in force, all without a restart.
import type { ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken } from '../src/kernel/auth.ts'
import { type Served, startServe } from './cli-harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'reserves-rotate-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const OLD = 'old-jwt-secret-for-the-rotation-test!!'
const NEW = 'new-jwt-secret-for-the-rotation-test!!'
const enc = (s: string) => new TextEncoder().encode(s)
const bearer = (secret: string) => ({
  authorization: `Bearer ${signToken(enc(secret), { sub: 'ops', role: 'admin', ttlSeconds: 600 })}`,
})
const keys = (key: string) => JSON.stringify([{ name: 'ops', role: 'admin', key }])

/** Replaces `name` as a secret manager does: a new file renamed over the old one. */
function replace(name: string, content: string, mode = 0o600): void {
  const tmp = join(dir, `${name}.tmp`)
  writeFileSync(tmp, content, { mode })
  chmodSync(tmp, mode) // whatever the umask
  renameSync(tmp, join(dir, name))
}

describe('cairn reserves serve: secrets from a manager, rotated without a restart', () => {
  let served: Served
  const status = async (headers: Record<string, string>) => (await fetch(`${served.url}/v1/builds`, { headers })).status
  /** Polls until the request answers `want` (a rotation lands within a poll of 100 ms). */
  const until = async (headers: Record<string, string>, want: number) => {
    const end = Date.now() + 15_000
    let got = await status(headers)
    while (got !== want && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50))
      got = await status(headers)
    }
    return got
  }

  it('starts with the at-rest key from an age bundle and the JWT secret and API keys from files', async () => {
    const identity = await generateIdentity()
    const e = new Encrypter()
    e.addRecipient(await identityToRecipient(identity))
    // the bundle may be world-readable (it is ciphertext); the identity may not
    writeFileSync(join(dir, 'secrets.age'), await e.encrypt(`atRestKey=${'4d'.repeat(32)}\n`), { mode: 0o644 })
    writeFileSync(join(dir, 'age.id'), `${identity}\n`, { mode: 0o600 })
    replace('jwt.secret', OLD)
    replace('api-keys.json', keys('old-api-key-0123456789'))
    served = await startServe(
      [
        '--datadir',
        join(dir, 'data'),
        '--key-file',
        `age:${join(dir, 'secrets.age')}#atRestKey`,
        '--age-identity-file',
        join(dir, 'age.id'),
        '--jwt-secret-file',
        join(dir, 'jwt.secret'),
        '--api-keys-file',
        join(dir, 'api-keys.json'),
        '--secrets.poll-ms',
        '100',
        '--no-build',
        '--http.port',
        '0',
      ],
      children,
    )
    expect(await status(bearer(OLD))).toBe(200)
    expect(await status({ 'x-api-key': 'old-api-key-0123456789' })).toBe(200)
  }, 120_000)

  it('puts a rotated JWT secret and API key in force: the old ones are refused, the new accepted', async () => {
    const pid = served.child.pid
    replace('jwt.secret', NEW)
    replace('api-keys.json', keys('new-api-key-0123456789'))
    expect(await until(bearer(NEW), 200)).toBe(200)
    expect(await until({ 'x-api-key': 'new-api-key-0123456789' }, 200)).toBe(200)
    expect(await status(bearer(OLD))).toBe(401)
    expect(await status({ 'x-api-key': 'old-api-key-0123456789' })).toBe(401)
    expect(served.child.pid).toBe(pid)
    expect(served.child.exitCode).toBeNull()
    expect(served.out()).toMatch(/"secretRef":"--jwt-secret-file".*secret rotated: the new value is in force/)
  }, 60_000)

  it('refuses a world-readable or too-short replacement and keeps the secret in force', async () => {
    replace('jwt.secret', 'leaked-secret-for-the-rotation-test!!', 0o644)
    const refused = /"secretRef":"--jwt-secret-file".*has mode 0644: other users can read or write it/
    const end = Date.now() + 15_000
    while (!refused.test(served.out()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    expect(served.out()).toMatch(refused)
    expect(await status(bearer('leaked-secret-for-the-rotation-test!!'))).toBe(401)
    expect(await status(bearer(NEW))).toBe(200)
    replace('jwt.secret', 'short')
    const short = /an HS256 secret must be at least 32 bytes/
    while (!short.test(served.out()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    expect(served.out()).toMatch(short)
    expect(await status(bearer(NEW))).toBe(200)
    expect(served.out()).not.toContain('leaked-secret-for-the-rotation-test')
  }, 60_000)
})
