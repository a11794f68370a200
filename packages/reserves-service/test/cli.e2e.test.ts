// `cairn reserves …` as a user runs it: a real `cairn` process per command.
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { verifyProof } from '@cairn/reserves/verifier'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken, verifyToken } from '../src/kernel/auth.ts'
import { CAIRN_BIN, reservesCli } from './cli-harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-cli-'))

/** `cairn reserves serve <args> --http.port 0` as a process in `dir`, once it says its address. */
async function startServe(args: string[], stderr: 'pipe' | 'ignore' = 'pipe') {
  const child = spawn('node', [CAIRN_BIN, 'reserves', 'serve', ...args, '--http.port', '0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', stderr],
  }) as ChildProcessByStdio<null, Readable, Readable | null>
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  let logs = ''
  child.stderr?.on('data', (d) => {
    logs += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${logs}`)), 60_000)
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${logs}`)))
    child.stdout.on('data', (d) => {
      logs += d
      const m = /"addr":"(http:[^"]+)"/.exec(logs)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] as string)
      }
    })
  })
  return { child, url, exited }
}

const cli = reservesCli(dir)

describe('cairn reserves (CLI)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('build → proof → verify, and a tampered proof fails with exit code 2', async () => {
    writeFileSync(join(dir, 'in.csv'), 'userId,BTC,ETH\nalice,150000000,0\nbob,1,2000000000000000000\n')
    const b = await cli(
      'build',
      '--input',
      'in.csv',
      '--out',
      'tree',
      '--currencies',
      'BTC:8,ETH:18',
      '--min-depth',
      '6',
      '--hash',
      'keccak256',
      '--snapshot-id',
      'd1',
    )
    expect(b.stderr).toBe('')
    const built = JSON.parse(b.stdout)
    expect(built).toMatchObject({ snapshotId: 'd1', users: 2, depth: 6 })
    expect(statSync(join(dir, 'tree', 'users.ndjson')).mode & 0o777).toBe(0o600)
    const p = await cli('proof', '--tree', 'tree', '--user', 'alice')
    writeFileSync(join(dir, 'alice.json'), p.stdout)
    const ok = await cli('verify', 'alice.json', '--root', built.root.hash)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('OK: alice is included in snapshot d1')
    const wrongRoot = await cli('verify', 'alice.json', '--root', `0x${'ab'.repeat(32)}`)
    expect(wrongRoot.code).toBe(2)
    const proof = JSON.parse(p.stdout)
    proof.path[3].balances[1] = String(BigInt(proof.path[3].balances[1]) + 1n)
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(proof))
    const bad = await cli('verify', 'bad.json')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/does not verify/)
    const unknown = await cli('proof', '--tree', 'tree', '--user', 'mallory')
    expect(unknown.code).toBe(2)
  }, 120_000)

  it('refuses a bad snapshot, listing rows, and writes nothing', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'userId,BTC\na,1\na,2\nb,-1\nc,1e3\n')
    const r = await cli('build', '--input', 'bad.csv', '--out', 'nothing')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/line 3: duplicate.*line 4: negative.*line 5/)
    expect(() => statSync(join(dir, 'nothing'))).toThrow()
  }, 60_000)

  it('mints tokens the service accepts', async () => {
    writeFileSync(join(dir, 'jwt.secret'), 'a-long-random-secret-for-tests-of-the-token', { mode: 0o600 })
    const r = await cli('token', '--role', 'auditor', '--sub', 'kpmg', '--secret-file', 'jwt.secret', '--ttl', '60')
    expect(r.code).toBe(0)
    const p = verifyToken(new Uint8Array(readFileSync(join(dir, 'jwt.secret'))), r.stdout.trim())
    expect(p).toEqual({ sub: 'kpmg', role: 'auditor', via: 'jwt' })
  }, 60_000)

  it('refuses a JWT secret under 32 bytes, for the service and for tokens, before opening anything', async () => {
    writeFileSync(join(dir, 'short.secret'), 'x', { mode: 0o600 })
    writeFileSync(join(dir, 'empty.secret'), '', { mode: 0o600 })
    writeFileSync(join(dir, 'guard.key'), 'cd'.repeat(32), { mode: 0o600 })
    const token = await cli('token', '--role', 'admin', '--sub', 'ops', '--secret-file', 'short.secret', '--ttl', '60')
    expect(token.code).not.toBe(0)
    expect(token.stdout).toBe('')
    expect(token.stderr).toMatch(
      /--secret-file short\.secret is 1 byte\(s\); an HS256 secret must be at least 32 bytes/,
    )
    const serve = await cli(
      'serve',
      '--datadir',
      'never-created',
      '--key-file',
      'guard.key',
      '--jwt-secret-file',
      'empty.secret',
      '--http.port',
      '0',
    )
    expect(serve.code).not.toBe(0)
    expect(serve.stderr).toMatch(/the --jwt-secret-file empty\.secret is empty/)
    expect(() => statSync(join(dir, 'never-created'))).toThrow()
  }, 60_000)

  it('refuses a secret file other users can read, as the keystores do, before opening anything', async () => {
    writeFileSync(join(dir, 'open.key'), 'cd'.repeat(32), { mode: 0o644 })
    chmodSync(join(dir, 'open.key'), 0o644) // whatever the umask
    const serve = await cli('serve', '--datadir', 'never-created-2', '--key-file', 'open.key', '--http.port', '0')
    expect(serve.code).not.toBe(0)
    expect(serve.stderr).toMatch(/the --key-file open\.key has mode 0644: other users can read or write it/)
    expect(serve.stderr).toMatch(/chmod 600 open\.key/)
    expect(() => statSync(join(dir, 'never-created-2'))).toThrow()
  }, 60_000)

  it('serve: a real process on PGlite takes a snapshot, serves a verifying proof, stops cleanly; audit verify passes', async () => {
    writeFileSync(join(dir, 'at-rest.key'), 'cd'.repeat(32), { mode: 0o600 })
    writeFileSync(join(dir, 'jwt2.secret'), 'another-long-random-secret-for-the-serve-test', { mode: 0o600 })
    writeFileSync(
      join(dir, 'keys.json'),
      JSON.stringify([{ name: 'exporter', role: 'auditor', key: 'k-0123456789abcdef' }]),
      { mode: 0o600 },
    )
    const { child, url } = await startServe([
      '--datadir',
      'svc',
      '--key-file',
      'at-rest.key',
      '--jwt-secret-file',
      'jwt2.secret',
      '--min-depth',
      '3',
      '--api-keys-file',
      'keys.json',
    ])
    try {
      const secret = new Uint8Array(readFileSync(join(dir, 'jwt2.secret')))
      const auth = (role: 'admin' | 'user', sub: string) => ({
        authorization: `Bearer ${signToken(secret, { role, sub, ttlSeconds: 60 })}`,
      })
      const post = await fetch(`${url}/v1/snapshots?id=live&currencies=BTC:8`, {
        method: 'POST',
        headers: { ...auth('admin', 'ops'), 'content-type': 'text/csv' },
        body: 'userId,BTC\nalice,5\nbob,7\n',
      })
      expect(post.status).toBe(202)
      let snap: { status: string; root: { hash: string } | null } = { status: 'building', root: null }
      for (let i = 0; i < 100 && snap.status === 'building'; i++) {
        await new Promise((r) => setTimeout(r, 100))
        snap = (await (
          await fetch(`${url}/v1/snapshots/live`, { headers: auth('admin', 'ops') })
        ).json()) as typeof snap
      }
      expect(snap.status).toBe('built')
      const viaKey = await fetch(`${url}/v1/snapshots/live`, { headers: { 'x-api-key': 'k-0123456789abcdef' } })
      expect(viaKey.status).toBe(200)
      expect(
        (await fetch(`${url}/v1/snapshots/live`, { headers: { 'x-api-key': 'k-wrong-wrong-wrong' } })).status,
      ).toBe(401)
      const proof = await (await fetch(`${url}/v1/snapshots/live/proof`, { headers: auth('user', 'bob') })).json()
      expect(verifyProof(proof, { expectedRoot: snap.root!.hash }).ok).toBe(true)
      const page = await fetch(`${url}/`)
      expect(await page.text()).toContain('Check your proof')
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    const audit = await cli('audit', 'verify', '--datadir', 'svc')
    expect(audit.stderr).toBe('')
    expect(audit.stdout).toMatch(/^OK: 2 entries/)
  }, 150_000)

  it("serve: stops cleanly by itself when its log output's reader goes away (EPIPE), as on SIGTERM", async () => {
    writeFileSync(join(dir, 'pipe.key'), 'ef'.repeat(32), { mode: 0o600 })
    writeFileSync(join(dir, 'pipe.secret'), 'a-long-random-secret-for-the-broken-pipe-test', { mode: 0o600 })
    const { child, url, exited } = await startServe(
      ['--datadir', 'pipe', '--key-file', 'pipe.key', '--jwt-secret-file', 'pipe.secret'],
      'ignore',
    )
    try {
      child.stdout.destroy()
      // something to log: a snapshot is taken
      const secret = new Uint8Array(readFileSync(join(dir, 'pipe.secret')))
      await fetch(`${url}/v1/snapshots?id=p&currencies=BTC:8`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${signToken(secret, { role: 'admin', sub: 'ops', ttlSeconds: 60 })}`,
          'content-type': 'text/csv',
        },
        body: 'userId,BTC\nalice,5\n',
      }).catch(() => undefined)
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000)),
      ])
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    // the store closed cleanly: its audit log verifies
    const audit = await cli('audit', 'verify', '--datadir', 'pipe')
    expect(audit.stdout).toMatch(/^OK: /)
  }, 120_000)
})
