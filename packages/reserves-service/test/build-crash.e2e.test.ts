// A build killed midway never leaves a stuck snapshot or orphan rows, and is never built twice.
// Real `cairn reserves serve` processes, killed with SIGKILL while they store a build's users:
// - PGlite (the default): the restarted service takes the interrupted job over at once (its datadir
//   is its own), removes what the dead attempt wrote, and builds it: attempt 2, built, proofs verify.
// - PostgreSQL, scaled out: two API instances (--no-build) and a worker over one database; the
//   worker is killed mid-build, a second worker takes the job over when the lease runs out, and a
//   WebSocket client on the *other* API instance hears `snapshot.built` (LISTEN/NOTIFY).
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyProof } from '@cairn/reserves/verifier'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken } from '../src/kernel/auth.ts'
import { type Served, startServe } from './cli-harness.ts'
import { PG_URL, postgresUnavailable } from './service-harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'reserves-crash-'))
const SECRET = 'crash-test-secret-crash-test-secret'
writeFileSync(join(dir, 'jwt.secret'), SECRET, { mode: 0o600 })
writeFileSync(join(dir, 'at-rest.key'), '3c'.repeat(32), { mode: 0o600 })
const secret = new TextEncoder().encode(SECRET)
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 3600 })}` }
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** Starts `cairn reserves serve` on a free port; resolves once it listens. */
function serve(extra: string[]): Promise<Served> {
  const args = ['--key-file', join(dir, 'at-rest.key'), '--jwt-secret-file', join(dir, 'jwt.secret')]
  return startServe([...args, '--http.port', '0', '--min-depth', '4', ...extra], children)
}

const csvOf = (n: number) => `userId,BTC\n${Array.from({ length: n }, (_, i) => `u${i},${i + 1}`).join('\n')}\n`

async function upload(url: string, id: string, n: number): Promise<void> {
  const r = await fetch(`${url}/v1/snapshots?id=${id}&currencies=BTC:8`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'text/csv' },
    body: csvOf(n),
  })
  expect(r.status, await r.clone().text()).toBe(202)
}

const job = async (url: string, id: string) =>
  (await (await fetch(`${url}/v1/builds/${id}`, { headers: admin })).json()) as {
    state: string
    attempts: number
    progress: number
    leaseOwner: string | null
  }

/** Polls until `fn` gives a value (not undefined), or fails after `ms`. */
async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  process.stdout.write(`${new Date().toISOString()} waiting for ${what}\n`)
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch((err: { final?: boolean }) => {
      if (err.final) throw err
      return undefined
    })
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function expectBuiltAndVerifying(url: string, id: string, n: number): Promise<void> {
  await until(`${id} built`, 120_000, async () => {
    const s = (await (await fetch(`${url}/v1/snapshots/${id}`, { headers: admin })).json()) as { status: string }
    if (s.status === 'failed') throw new Error(`${id} failed`)
    return s.status === 'built' ? true : undefined
  })
  const user = { authorization: `Bearer ${signToken(secret, { sub: `u${n - 1}`, role: 'user', ttlSeconds: 600 })}` }
  const proof = await (await fetch(`${url}/v1/snapshots/${id}/proof`, { headers: user })).json()
  expect(verifyProof(proof).ok).toBe(true)
}

describe('a build killed midway', { timeout: 300_000 }, () => {
  it('PGlite: the restarted service removes the dead attempt’s rows and builds it (attempt 2)', async () => {
    const datadir = join(dir, 'pglite')
    // Progress is written at each lease renewal (a third of the 1 s lease): storing the users must
    // outlast a few renewals for the kill to land midway on a fast machine (8,000 users once took
    // less than one renewal, and the build finished between two looks).
    const n = 40_000
    const first = await serve(['--datadir', datadir, '--build.lease-seconds', '1'])
    // /health probed every 20 ms through the upload and the build: the worst answer time
    let worst = 0
    let probing = true
    const probe = (async () => {
      while (probing) {
        const t = performance.now()
        await fetch(`${first.url}/health`)
          .then((r) => r.arrayBuffer())
          .catch(() => {})
        worst = Math.max(worst, performance.now() - t)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    await upload(first.url, 'k1', n)
    await until('users being stored', 90_000, async () => {
      const j = await job(first.url, 'k1')
      // Past the window (built already, or failed): say so now rather than time out.
      if (j.state === 'done' || j.state === 'failed')
        throw Object.assign(new Error(`the build ended (${j.state}) before it was seen midway`), { final: true })
      return j.state === 'running' && j.progress > 0 && j.progress < n ? j : undefined
    })
    probing = false
    await probe
    // ~0.1 s on a quiet machine; the bound leaves room for a loaded 2-core CI (was seconds:
    // PGlite's statements ran on the serving thread)
    process.stdout.write(`worst /health during upload and build (${n} users, PGlite): ${worst.toFixed(0)} ms\n`)
    expect(worst).toBeLessThan(3000)
    first.child.kill('SIGKILL')
    await first.exited
    const second = await serve(['--datadir', datadir])
    await expectBuiltAndVerifying(second.url, 'k1', n)
    expect(await job(second.url, 'k1')).toMatchObject({ state: 'done', attempts: 2 })
    // the second attempt's users went in under the same primary keys: a leftover row would have failed it
    expect(second.out()).toContain('removed the rows of an interrupted attempt')
    const list = (await (await fetch(`${second.url}/v1/builds`, { headers: admin })).json()) as { builds: unknown[] }
    expect(list.builds).toEqual([])
    second.child.kill('SIGTERM')
    await second.exited
  })

  it('PostgreSQL: two API instances and a worker; the worker is killed, another takes over, events reach both', async (ctx) => {
    const why = await postgresUnavailable()
    if (why) return ctx.skip(`PostgreSQL at 127.0.0.1:5432 unavailable: ${why}`)
    const schema = `reserves_crash_${randomBytes(4).toString('hex')}`
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect()
    await c.query(`CREATE SCHEMA ${schema}`)
    try {
      const url = `${PG_URL}?options=-c%20search_path%3D${schema}`
      const db = ['--database-url', url]
      const api1 = await serve([...db, '--no-build'])
      const [api2, worker1] = await Promise.all([
        serve([...db, '--no-build']),
        serve([...db, '--build.lease-seconds', '1']),
      ])
      const WebSocket = createRequire(import.meta.url)('ws') as new (
        u: string,
      ) => {
        on(e: 'message', f: (d: Buffer) => void): void
        once(e: 'open', f: () => void): void
        close(): void
      }
      const token = signToken(secret, { sub: 'watcher', role: 'auditor', ttlSeconds: 600 })
      const ws = new WebSocket(`${api2.url.replace('http', 'ws')}/v1/stream?token=${token}`)
      const events: { type: string; id?: string }[] = []
      ws.on('message', (d) => events.push(JSON.parse(d.toString())))
      await new Promise<void>((r) => ws.once('open', r))

      const n = 40_000
      await upload(api1.url, 'p1', n)
      const held = await until('the worker storing users', 90_000, async () => {
        const j = await job(api1.url, 'p1')
        return j.state === 'running' && j.progress > 0 && j.progress < n ? j : undefined
      })
      expect(held.leaseOwner).toContain(`:${worker1.child.pid}:`)
      worker1.child.kill('SIGKILL')
      await worker1.exited
      const orphans = Number(
        (await c.query(`SELECT count(*) AS n FROM ${schema}.reserves_users WHERE snapshot_id = 'p1'`)).rows[0].n,
      )
      expect(orphans).toBeGreaterThan(0)
      // the API instances never build: the job waits for a worker
      const worker2 = await serve([...db, '--build.lease-seconds', '1'])
      await expectBuiltAndVerifying(api2.url, 'p1', n)
      expect(await job(api1.url, 'p1')).toMatchObject({ state: 'done', attempts: 2 })
      const rows = Number(
        (await c.query(`SELECT count(*) AS n FROM ${schema}.reserves_users WHERE snapshot_id = 'p1'`)).rows[0].n,
      )
      expect(rows).toBe(n)
      await until('snapshot.built on the other API instance', 10_000, async () =>
        events.some((e) => e.type === 'snapshot.built' && e.id === 'p1') ? true : undefined,
      )
      ws.close()
      for (const s of [api1, api2, worker2]) s.child.kill('SIGTERM')
      await Promise.all([api1.exited, api2.exited, worker2.exited])
    } finally {
      await c.query(`DROP SCHEMA ${schema} CASCADE`)
      await c.end()
    }
  })
})
