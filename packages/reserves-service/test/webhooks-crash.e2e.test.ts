// Webhooks across a crash: a real `cairn reserves serve` is killed with SIGKILL while deliveries are
// in flight and pending, and restarted on the same storage. The receiver (a real HTTP server that
// records every request as it arrives) ends up with every event at least once; each duplicate
// carries the same idempotency key and body, and every delivery's signature verifies.
// PGlite (the default): the restarted process sends the interrupted deliveries at once.
// PostgreSQL: once their lease (here 2 s) has run out.
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyWebhookSignature } from '@cairn/reserves/webhooks'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken } from '../src/kernel/auth.ts'
import { type Served, startServe } from './cli-harness.ts'
import { PG_URL, postgresUnavailable } from './service-harness.ts'
import { startReceiver } from './webhook-receiver.ts'

const dir = mkdtempSync(join(tmpdir(), 'reserves-hooks-crash-'))
const SECRET = 'hooks-crash-secret-hooks-crash-secret'
writeFileSync(join(dir, 'jwt.secret'), SECRET, { mode: 0o600 })
writeFileSync(join(dir, 'at-rest.key'), '5e'.repeat(32), { mode: 0o600 })
const admin = {
  authorization: `Bearer ${signToken(new TextEncoder().encode(SECRET), { sub: 'ops', role: 'admin', ttlSeconds: 3600 })}`,
}
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** `cairn reserves serve` on a free port, delivering slowly (2 at a time) with quick retries; resolves once it listens. */
function serve(storage: string[]): Promise<Served> {
  const args = ['--key-file', join(dir, 'at-rest.key'), ...storage, '--jwt-secret-file', join(dir, 'jwt.secret')]
  args.push('--http.port', '0', '--min-depth', '2')
  args.push('--webhooks.concurrency', '2', '--webhooks.poll-ms', '50', '--webhooks.backoff-base-ms', '100')
  args.push('--webhooks.timeout-ms', '1500', '--webhooks.lease-seconds', '2')
  return startServe(args, children)
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  process.stdout.write(`${new Date().toISOString()} waiting for ${what}\n`)
  const end = Date.now() + ms
  for (;;) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const api = async (url: string, method: string, path: string, body?: object | string, type = 'application/json') => {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { ...admin, ...(body === undefined ? {} : { 'content-type': type }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await r.text()
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

interface Delivery {
  eventId: string
  eventType: string
  state: string
}

const SNAPSHOTS = 4
/** Per snapshot: created, build started, built, anchored. */
const EVENTS = SNAPSHOTS * 4

async function crashAndRecover(storage: string[]): Promise<void> {
  // the receiver holds every answer 800 ms: with 2 in flight at a time, 16 events take ~6 s
  const rx = await startReceiver(() => ({ status: 200, delayMs: 800 }))
  try {
    const first = await serve(storage)
    const made = await api(first.url, 'POST', '/v1/webhooks', { url: `${rx.url}/hook`, events: ['*'] })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    const hook = made.body as { id: string; secret: string }
    for (let i = 0; i < SNAPSHOTS; i++) {
      const r = await api(
        first.url,
        'POST',
        `/v1/snapshots?id=c${i}&currencies=BTC:8`,
        `userId,BTC\na,${i + 1}\nb,2\n`,
        'text/csv',
      )
      expect(r.status, JSON.stringify(r.body)).toBe(202)
    }
    for (let i = 0; i < SNAPSHOTS; i++)
      await until(`c${i} built`, 60_000, async () => {
        const s = await api(first.url, 'GET', `/v1/snapshots/c${i}`)
        return s.body.status === 'built' ? true : undefined
      })
    for (let i = 0; i < SNAPSHOTS; i++) {
      const r = await api(first.url, 'PUT', `/v1/snapshots/c${i}/anchor`, {
        chainId: 1337,
        txHash: `0x${'cd'.repeat(32)}`,
        blockNumber: i + 1,
      })
      expect(r.status).toBe(200)
    }
    const all = (await api(first.url, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body.deliveries as Delivery[]
    expect(all).toHaveLength(EVENTS)
    // kill while a request is in flight (received, not yet answered) and others are still pending
    await until('a delivery in flight', 10_000, () => (rx.inFlight() > 0 ? true : undefined))
    const before = new Set(rx.received.map((r) => r.headers['idempotency-key']))
    process.stdout.write(`killed with ${before.size}/${EVENTS} events received, ${rx.inFlight()} in flight\n`)
    expect(before.size).toBeLessThan(EVENTS)
    first.child.kill('SIGKILL')
    await first.exited

    const second = await serve(storage)
    const done = await until('every delivery recorded as delivered', 90_000, async () => {
      const l = (await api(second.url, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).body.deliveries as Delivery[]
      return l.length === EVENTS && l.every((d) => d.state === 'delivered') ? l : undefined
    })
    // every event at least once; each request signed, its idempotency key the event id in its body
    const seen = new Map<string, string[]>()
    for (const r of rx.received) {
      const v = verifyWebhookSignature(
        hook.secret,
        r.headers['cairn-webhook-signature'] as string,
        r.body,
        Date.now() / 1000,
      )
      expect(v.ok, JSON.stringify(v)).toBe(true)
      const body = JSON.parse(r.body) as { id: string }
      expect(r.headers['idempotency-key']).toBe(body.id)
      seen.set(body.id, [...(seen.get(body.id) ?? []), r.body])
    }
    for (const d of done) expect(seen.has(d.eventId), `${d.eventType} ${d.eventId} never arrived`).toBe(true)
    expect(seen.size).toBe(EVENTS)
    const dupes = [...seen.values()].filter((b) => b.length > 1)
    process.stdout.write(
      `received ${rx.received.length} requests for ${seen.size} events; ${dupes.length} duplicated\n`,
    )
    // the request in flight at the kill was never answered to the service: it came again
    expect(dupes.length).toBeGreaterThan(0)
    for (const bodies of dupes) expect(new Set(bodies).size).toBe(1)
    const types = done.map((d) => d.eventType).sort()
    expect(types).toEqual(
      ['snapshot.created', 'build.started', 'snapshot.built', 'snapshot.anchored']
        .flatMap((t) => Array(SNAPSHOTS).fill(t))
        .sort(),
    )
    second.child.kill('SIGTERM')
    await second.exited
  } finally {
    await rx.close()
  }
}

describe('webhook deliveries across a SIGKILL', { timeout: 240_000 }, () => {
  it('PGlite: the restarted service delivers every event; duplicates carry the same idempotency key', async () => {
    await crashAndRecover(['--datadir', join(dir, 'pglite')])
  })

  it('PostgreSQL: the same, once the dead process’s leases run out', async (ctx) => {
    const why = await postgresUnavailable()
    if (why) return ctx.skip(`PostgreSQL at 127.0.0.1:5432 unavailable: ${why}`)
    const schema = `reserves_hooks_${randomBytes(4).toString('hex')}`
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect()
    await c.query(`CREATE SCHEMA ${schema}`)
    try {
      await crashAndRecover(['--database-url', `${PG_URL}?options=-c%20search_path%3D${schema}`])
    } finally {
      await c.query(`DROP SCHEMA ${schema} CASCADE`)
      await c.end()
    }
  })
})
