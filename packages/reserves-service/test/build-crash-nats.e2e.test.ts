// Scaled out over PostgreSQL and NATS JetStream (`--queue.nats-url`): two API instances
// (--no-build) and two workers as real `cairn reserves serve` processes. The worker that got the
// job's message is killed with SIGKILL while it stores the users; the message was never acked, so
// JetStream hands it to the other worker after the ack wait (2 s here), the lease (1 s) having run
// out — polling, pushed back by the queue, plays no part — which removes the dead attempt's rows
// and builds it: attempt 2, built once, no orphan rows, the message acked. A WebSocket client on
// the API instance that did not queue it hears `snapshot.built` over NATS (no LISTEN/NOTIFY).
// Skipped with a message when PostgreSQL (127.0.0.1:5432) or NATS (127.0.0.1:4222) is absent.
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
import { connectJetStream, NATS } from './nats-harness.ts'
import { PG_URL, postgresUnavailable } from './service-harness.ts'

const jetStream = await connectJetStream()
const natsDown = jetStream.down
const nc = jetStream.nc
const pgDown = await postgresUnavailable()
const down = natsDown
  ? `NATS JetStream at 127.0.0.1:4222 unavailable (${natsDown})`
  : pgDown
    ? `PostgreSQL at 127.0.0.1:5432 unavailable (${pgDown})`
    : null
if (down) console.warn(`skipping the NATS build-crash test: ${down}`)

const dir = mkdtempSync(join(tmpdir(), 'reserves-crash-nats-'))
const SECRET = 'crash-nats-secret-crash-nats-secret'
writeFileSync(join(dir, 'jwt.secret'), SECRET, { mode: 0o600 })
writeFileSync(join(dir, 'at-rest.key'), '5e'.repeat(32), { mode: 0o600 })
const secret = new TextEncoder().encode(SECRET)
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 3600 })}` }
const tag = randomBytes(4).toString('hex')
const stream = `CAIRN_RESERVES_BUILDS_E2E_${tag}`
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL')
  await (await nc?.jetstreamManager())?.streams.delete(stream).catch(() => {})
  await nc?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts `cairn reserves serve` on a free port; resolves once it listens. */
function serve(extra: string[]): Promise<Served> {
  const args = ['--key-file', join(dir, 'at-rest.key'), '--jwt-secret-file', join(dir, 'jwt.secret')]
  return startServe([...args, '--http.port', '0', '--min-depth', '4', ...extra], children)
}

const csvOf = (n: number) => `userId,BTC\n${Array.from({ length: n }, (_, i) => `u${i},${i + 1}`).join('\n')}\n`

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

/** A labelled sample of /metrics (0 when absent). */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = text.split('\n').find((l) => l.startsWith(`${line} `))
  return m ? Number(m.split(' ')[1]) : 0
}

describe.skipIf(down !== null)('a build killed midway, dispatched over NATS JetStream', { timeout: 240_000 }, () => {
  it('two API instances and two workers; the one holding the message is killed, the other builds it, events reach both', async () => {
    const schema = `reserves_crash_nats_${tag}`
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect()
    await c.query(`CREATE SCHEMA ${schema}`)
    try {
      const url = `${PG_URL}?options=-c%20search_path%3D${schema}`
      const shared = ['--database-url', url, '--queue.nats-url', NATS, '--queue.nats-stream', stream]
      shared.push('--queue.nats-subject-prefix', `cairn.e2e.${tag}`, '--queue.nats-durable', `builds-${tag}`)
      shared.push('--queue.nats-ack-wait-seconds', '2')
      const worker = [...shared, '--build.lease-seconds', '1']
      // all four at once (startup is the slow part on a loaded machine); one worker gets the message
      const [api1, api2, workerA, workerB] = await Promise.all([
        serve([...shared, '--no-build']),
        serve([...shared, '--no-build']),
        serve(worker),
        serve(worker),
      ])
      const ready = await fetch(`${api2.url}/ready`)
      const readyBody = await ready.text()
      expect(ready.status, readyBody).toBe(200)
      expect(readyBody).toContain('queue-nats')

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

      // Progress is written at each lease renewal (a third of the 1 s lease): storing the users
      // outlasts a few renewals, so the kill lands midway (as in build-crash.e2e.test.ts).
      const n = 40_000
      const up = await fetch(`${api1.url}/v1/snapshots?id=q1&currencies=BTC:8`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'text/csv' },
        body: csvOf(n),
      })
      expect(up.status, await up.clone().text()).toBe(202)
      const held = await until('the worker storing users', 90_000, async () => {
        const j = await job(api1.url, 'q1')
        if (j.state === 'done' || j.state === 'failed')
          throw Object.assign(new Error(`the build ended (${j.state}) before it was seen midway`), { final: true })
        return j.state === 'running' && j.progress > 0 && j.progress < n ? j : undefined
      })
      const [worker1, worker2] = held.leaseOwner?.includes(`:${workerA.child.pid}:`)
        ? [workerA, workerB]
        : [workerB, workerA]
      expect(held.leaseOwner).toContain(`:${worker1.child.pid}:`)
      // the worker took the job from its message (the queue), not from polling
      expect(worker1.out()).toContain('build queue: message received')
      expect(worker2.out()).not.toContain('snapshot build started')
      worker1.child.kill('SIGKILL')
      await worker1.exited
      const orphans = Number(
        (await c.query(`SELECT count(*) AS n FROM ${schema}.reserves_users WHERE snapshot_id = 'q1'`)).rows[0].n,
      )
      expect(orphans).toBeGreaterThan(0)

      await until('q1 built', 120_000, async () => {
        const s = (await (await fetch(`${api2.url}/v1/snapshots/q1`, { headers: admin })).json()) as {
          status: string
        }
        if (s.status === 'failed') throw Object.assign(new Error('q1 failed'), { final: true })
        return s.status === 'built' ? true : undefined
      })
      expect(await job(api1.url, 'q1')).toMatchObject({ state: 'done', attempts: 2 })
      // the unacked message came back to the second worker, which took the job over
      expect(worker2.out()).toContain('message delivered again')
      expect(worker2.out()).toContain('removed the rows of an interrupted attempt')
      expect(
        await metric(worker2.url, 'cairn_reserves_build_queue_messages_total{outcome="redelivered"}'),
      ).toBeGreaterThanOrEqual(1)
      // the worker counts the build just after the commit the status query saw: wait for the count
      await until('worker 2 counted the build', 30_000, async () =>
        (await metric(worker2.url, 'cairn_reserves_build_attempts_total{outcome="built"}')) ? true : undefined,
      )
      expect(await metric(worker2.url, 'cairn_reserves_build_attempts_total{outcome="built"}')).toBe(1)
      const count = async (table: string) =>
        Number((await c.query(`SELECT count(*) AS n FROM ${schema}.${table} WHERE snapshot_id = 'q1'`)).rows[0].n)
      expect(await count('reserves_users')).toBe(n)
      expect(await count('reserves_build_input')).toBe(0)
      const user = { authorization: `Bearer ${signToken(secret, { sub: `u${n - 1}`, role: 'user', ttlSeconds: 600 })}` }
      const proof = await (await fetch(`${api2.url}/v1/snapshots/q1/proof`, { headers: user })).json()
      expect(verifyProof(proof).ok).toBe(true)
      await until('snapshot.built on the API instance that did not queue it', 10_000, async () =>
        events.some((e) => e.type === 'snapshot.built' && e.id === 'q1') ? true : undefined,
      )
      await until('the message acked (the work-queue stream empty)', 10_000, async () =>
        (await (await nc!.jetstreamManager()).streams.info(stream)).state.messages === 0 ? true : undefined,
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
