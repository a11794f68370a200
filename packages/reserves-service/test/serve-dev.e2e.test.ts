// `cairn reserves serve --dev`: starts with an at-rest key and an HS256 secret generated into its
// datadir (mode 0600, reused on the next start), prints how to mint a token, and that token works;
// without --dev a missing key is refused with the way out. The real `cairn` processes.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, reservesCli } from './cli-harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-serve-dev-'))
const cli = reservesCli(dir)
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** Starts `cairn reserves serve --dev` on a free port; resolves with its URL and everything it printed. */
function serveDev(datadir: string): Promise<{ url: string; out: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CAIRN_BIN, 'reserves', 'serve', '--dev', '--datadir', datadir, '--http.port', '0'],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.push(child)
    let out = ''
    const onData = (b: Buffer) => {
      out += b.toString()
      const m = /"addr":"(http:\/\/[^"]+)"/.exec(out) ?? /listening.*?(http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1]) resolve({ url: m[1], out, child })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve --dev exited ${code}:\n${out}`)))
  })
}

describe('cairn reserves serve --dev', { timeout: 120_000 }, () => {
  it('generates its secrets once (0600), says how to mint a token, and the minted token is accepted', async () => {
    const datadir = join(dir, 'svc')
    const first = await serveDev(datadir)
    const secretFile = join(datadir, 'dev', 'jwt.secret')
    expect(first.out).toContain(`cairn reserves token --role admin --sub me --secret-file ${secretFile}`)
    for (const f of ['jwt.secret', 'at-rest.key']) expect(statSync(join(datadir, 'dev', f)).mode & 0o777).toBe(0o600)
    const secret = readFileSync(secretFile, 'utf8')

    const token = await cli('token', '--role', 'admin', '--sub', 'me', '--secret-file', secretFile)
    expect(token.code, token.stderr).toBe(0)
    const ok = await fetch(`${first.url}/v1/snapshots`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } })
    expect(ok.status).toBe(200)
    const anonymous = await fetch(`${first.url}/v1/snapshots`)
    expect(anonymous.status).toBe(401)
    first.child.kill('SIGTERM')
    await new Promise((r) => first.child.once('exit', r))

    // a second start reuses the same secrets: tokens minted before stay valid
    const second = await serveDev(datadir)
    expect(readFileSync(secretFile, 'utf8')).toBe(secret)
    const again = await fetch(`${second.url}/v1/snapshots`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    })
    expect(again.status).toBe(200)
    second.child.kill('SIGTERM')
  })

  it('without --dev, no --key-file is refused (exit 2) and names both ways out', async () => {
    const r = await cli('serve', '--datadir', join(dir, 'nokey'), '--http.port', '0')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no at-rest key')
    expect(r.stderr).toContain('--dev')
  })
})
