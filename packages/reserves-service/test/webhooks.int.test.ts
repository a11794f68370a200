// Webhooks end to end in one process, on PGlite and on PostgreSQL (a fresh schema per run): endpoints
// registered through the API, events written to the outbox with the change that causes them, and
// delivered by the worker to a real HTTP receiver — signed, with the event id as idempotency key,
// retried with backoff, dead-lettered and redelivered; two instances over one PostgreSQL never
// deliver one event twice while neither crashes.

import { verifyWebhookSignature } from '@cairn/reserves/webhooks'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { DEFAULT_WEBHOOKS } from '../src/features/webhooks/worker.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { recordEvent } from '../src/kernel/outbox.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'
import { type Received, type Receiver, startReceiver } from './webhook-receiver.ts'

const secret = new TextEncoder().encode('test-secret-test-secret-test-secret')
const key = parseKeyFile('cd'.repeat(32))
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const auditor = { authorization: `Bearer ${signToken(secret, { sub: 'kpmg', role: 'auditor', ttlSeconds: 600 })}` }

const WEBHOOKS = {
  ...DEFAULT_WEBHOOKS,
  maxAttempts: 3,
  backoff: { baseMs: 200, maxMs: 2_000 },
  timeoutMs: 3_000,
  leaseMs: 10_000,
  pollMs: 50,
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the PostgreSQL webhook tests: 127.0.0.1:5432 is unreachable (${pgDown})`)

interface Hook {
  id: string
  url: string
  events: string[]
  enabled: boolean
  secret?: string
}

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`webhooks on ${driver}`, { timeout: 60_000 }, () => {
    let db: OpenedSql
    let svc: ReservesService
    let rx: Receiver
    const make = (sql: Sql, owner: string) =>
      createReservesService(
        { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 2, webhooks: WEBHOOKS },
        { sql, key, logger: silentLogger, owner, random: () => 0.5 },
      )
    beforeAll(async () => {
      db = await openTestSql(driver)
      rx = await startReceiver()
      svc = make(db.sql, 'one')
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
      await rx?.close()
    })

    const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object) => {
      const r = await svc.app.inject({
        method,
        url,
        headers: admin,
        ...(payload === undefined ? {} : { payload }),
      })
      return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} }
    }
    const register = async (path: string, events: string[]) => {
      const r = await call('POST', '/v1/webhooks', { url: `${rx.url}${path}`, events, description: path })
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      return r.body as unknown as Hook & { secret: string }
    }
    let snapshots = 0
    const snapshot = async () => {
      const id = `s${++snapshots}`
      const r = await svc.app.inject({
        method: 'POST',
        url: '/v1/snapshots',
        headers: admin,
        payload: {
          id,
          currencies: [{ symbol: 'BTC', decimals: 8 }],
          entries: [
            { userId: 'alice', balances: { BTC: '5' } },
            { userId: 'bob', balances: { BTC: '7' } },
          ],
        },
      })
      expect(r.statusCode, r.body).toBe(202)
      await svc.idle()
      return id
    }
    const anchor = async (id: string, block: number) => {
      const r = await call('PUT', `/v1/snapshots/${id}/anchor`, {
        chainId: 1337,
        txHash: `0x${'ab'.repeat(32)}`,
        blockNumber: block,
      })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
    }
    /** Checks the delivery's signature with `hookSecret` and that its idempotency key is the event id. */
    const checked = (r: Received, hookSecret: string) => {
      const body = JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> }
      const v = verifyWebhookSignature(
        hookSecret,
        r.headers['cairn-webhook-signature'] as string,
        r.body,
        Date.now() / 1000,
        300,
      )
      expect(v.ok, JSON.stringify(v)).toBe(true)
      expect(r.headers['idempotency-key']).toBe(body.id)
      expect(r.headers['cairn-event-type']).toBe(body.type)
      expect(r.headers['content-type']).toBe('application/json')
      expect(Number(r.headers['cairn-webhook-timestamp'])).toBe(v.ok ? v.timestamp : -1)
      return body
    }

    it('refuses bad input with 400 saying what to fix, and non-admins', async () => {
      const bad = async (payload: object, want: RegExp) => {
        const r = await call('POST', '/v1/webhooks', payload)
        expect(r.status).toBe(400)
        expect(r.body.code).toBe('RESERVES_BAD_OPTIONS')
        expect(r.body.message).toMatch(want)
      }
      await bad(
        { url: 'ftp://example.com/x', events: ['snapshot.built'] },
        /url must be http:\/\/ or https:\/\/, not ftp:/,
      )
      await bad({ url: 'not a url', events: ['snapshot.built'] }, /url .* is not an absolute URL/)
      await bad(
        { url: 'https://a.example/x', events: ['snapshot.bilt'] },
        /unknown event type "snapshot.bilt"; known: .*snapshot.built/,
      )
      await bad({ url: 'https://a.example/x', events: [] }, /events must name at least one event type/)
      await bad({ url: 'https://a.example/x' }, /events is required/)
      await bad({ url: 'https://u:p@a.example/x', events: ['*'] }, /must not carry credentials/)
      await bad({ url: 'https://a.example/x', events: ['*'], secret: 'mine' }, /unknown field secret/)
      expect((await call('PATCH', '/v1/webhooks/wh_nope', { enabled: false })).status).toBe(404)
      expect((await call('PATCH', '/v1/webhooks/wh_nope', {})).body.message).toMatch(/give at least one of/)
      expect((await call('GET', '/v1/webhooks/wh_nope/deliveries?state=lost')).body.message).toMatch(
        /state must be pending, delivered or dead/,
      )
      const asAuditor = await svc.app.inject({ method: 'GET', url: '/v1/webhooks', headers: auditor })
      expect(asAuditor.statusCode).toBe(403)
      const anonymous = await svc.app.inject({ method: 'POST', url: '/v1/webhooks', payload: { url: 'x' } })
      expect(anonymous.statusCode).toBe(401)
    })

    it('registers, lists, changes and deletes endpoints; the secret is shown once, never logged', async () => {
      const h = await register('/crud', ['snapshot.built'])
      expect(h.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
      expect(h).toMatchObject({ events: ['snapshot.built'], enabled: true, description: '/crud' })
      const listed = (await call('GET', '/v1/webhooks')).body.webhooks as Hook[]
      expect(listed.find((x) => x.id === h.id)).toBeDefined()
      expect(JSON.stringify(listed)).not.toContain(h.secret)
      expect(JSON.stringify((await call('GET', `/v1/webhooks/${h.id}`)).body)).not.toContain('whsec_')
      const changed = await call('PATCH', `/v1/webhooks/${h.id}`, { enabled: false, events: ['*'] })
      expect(changed.body).toMatchObject({ enabled: false, events: ['*'] })
      expect((await call('DELETE', `/v1/webhooks/${h.id}`)).status).toBe(204)
      expect((await call('GET', `/v1/webhooks/${h.id}`)).status).toBe(404)
      const audit = (await call('GET', '/v1/audit?limit=1000')).body.entries as { action: string; details: object }[]
      const mine = audit.filter((e) => JSON.stringify(e.details).includes(h.id)).map((e) => e.action)
      expect(mine).toEqual(['webhook.created', 'webhook.updated', 'webhook.deleted'])
      expect(JSON.stringify(audit)).not.toContain(h.secret)
    })

    it('delivers each event of a snapshot to the endpoints subscribed to it, signed, keyed by event id', async () => {
      const all = await register('/all', ['*'])
      const anchored = await register('/anchored', ['snapshot.anchored'])
      const id = await snapshot()
      await anchor(id, 1)
      const types = ['snapshot.created', 'build.started', 'snapshot.built', 'snapshot.anchored']
      await until('4 events at /all', () => rx.on('/all').length >= 4)
      await until('the anchor at /anchored', () => rx.on('/anchored').length >= 1)
      const got = rx.on('/all').map((r) => checked(r, all.secret))
      expect(got.map((b) => b.type).sort()).toEqual([...types].sort())
      for (const b of got) expect(b.data.snapshotId).toBe(id)
      const built = got.find((b) => b.type === 'snapshot.built')!
      expect(built.data).toMatchObject({ root: { balances: ['12'] }, currencies: [{ symbol: 'BTC', decimals: 8 }] })
      const one = checked(rx.on('/anchored')[0]!, anchored.secret)
      expect(one).toMatchObject({ type: 'snapshot.anchored', data: { anchor: { chainId: 1337, blockNumber: 1 } } })
      // another endpoint's secret does not verify this one's deliveries
      expect(
        verifyWebhookSignature(
          all.secret,
          rx.on('/anchored')[0]!.headers['cairn-webhook-signature'] as string,
          rx.on('/anchored')[0]!.body,
          Date.now() / 1000,
        ).ok,
      ).toBe(false)
      // the receiver has them; their answers are recorded a moment later
      const list = await until('4 delivered', async () => {
        const l = (await call('GET', `/v1/webhooks/${all.id}/deliveries`)).body.deliveries as { state: string }[]
        return l.every((d) => d.state === 'delivered') ? l : undefined
      })
      expect(list).toHaveLength(4)
      for (const d of list) expect(d).toMatchObject({ state: 'delivered', attempts: 1 })
      for (const h of [all, anchored]) await call('PATCH', `/v1/webhooks/${h.id}`, { enabled: false })
    })

    it('retries a receiver that fails twice, with growing delays and the same idempotency key', async () => {
      rx.setBehaviour((path, n) => ({ status: path === '/flaky' && n <= 2 ? 503 : 200 }))
      const h = await register('/flaky', ['snapshot.anchored'])
      await anchor('s1', 2)
      await until('3 attempts at /flaky', () => rx.on('/flaky').length >= 3)
      const [a, b, c] = rx.on('/flaky')
      const bodies = [a!, b!, c!].map((r) => checked(r, h.secret))
      expect(new Set(bodies.map((x) => x.id)).size).toBe(1)
      expect(new Set([a!, b!, c!].map((r) => r.body)).size).toBe(1)
      expect([a!, b!, c!].map((r) => r.headers['cairn-delivery-attempt'])).toEqual(['1', '2', '3'])
      // random() = 0.5: at least 150 ms then 300 ms (three quarters of 200·2^(n−1)); later on a
      // loaded machine, never earlier (the schedule's growth itself is unit-tested)
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(140)
      expect(c!.at - b!.at).toBeGreaterThanOrEqual(290)
      await until('delivered', async () => {
        const d = (await call('GET', `/v1/webhooks/${h.id}/deliveries`)).body.deliveries as { state: string }[]
        return d[0]?.state === 'delivered' ? true : undefined
      })
      const d = ((await call('GET', `/v1/webhooks/${h.id}/deliveries`)).body.deliveries as object[])[0]
      expect(d).toMatchObject({ state: 'delivered', attempts: 3, lastStatus: 200, eventType: 'snapshot.anchored' })
      await call('PATCH', `/v1/webhooks/${h.id}`, { enabled: false })
    })

    it('dead-letters after the last attempt; the list shows it and a redelivery succeeds with the same key', async () => {
      let down = true
      rx.setBehaviour((path) => ({ status: path === '/down' && down ? 500 : 200 }))
      const h = await register('/down', ['snapshot.anchored'])
      await anchor('s1', 3)
      const dead = await until('a dead letter', async () => {
        const l = (await call('GET', '/v1/webhooks/dead-letters')).body.deliveries as {
          webhookId: string
          eventId: string
        }[]
        return l.find((x) => x.webhookId === h.id)
      })
      expect(rx.on('/down')).toHaveLength(3)
      expect(dead).toMatchObject({ state: 'dead', attempts: 3, lastStatus: 500, lastError: 'HTTP 500' })
      const metrics = (await svc.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/cairn_reserves_webhook_deliveries_total\{outcome="dead"\} [1-9]/)
      expect(metrics).toMatch(/cairn_reserves_webhook_deliveries_total\{outcome="retried"\} [1-9]/)
      expect(metrics).toMatch(/cairn_reserves_webhook_deliveries_total\{outcome="lost"\} 0/)
      expect(metrics).toMatch(/cairn_reserves_webhook_delivery_latency_seconds_count [1-9]/)
      expect(metrics).toMatch(/cairn_reserves_webhook_backlog \d/)
      // a pending delivery cannot be redelivered; an unknown one is named
      const unknown = await call('POST', `/v1/webhooks/${h.id}/deliveries/evt_nope/redeliver`)
      expect(unknown.status).toBe(409)
      expect(unknown.body.message).toMatch(/no delivery of event evt_nope/)
      down = false
      const again = await call('POST', `/v1/webhooks/${h.id}/deliveries/${dead.eventId}/redeliver`)
      expect(again.status).toBe(200)
      await until('the redelivery', () => rx.on('/down').length >= 4)
      const keys = rx.on('/down').map((r) => checked(r, h.secret).id)
      expect(new Set(keys)).toEqual(new Set([dead.eventId]))
      await until('delivered', async () => {
        const d = (await call('GET', `/v1/webhooks/${h.id}/deliveries?state=delivered`)).body.deliveries as object[]
        return d.length === 1 ? true : undefined
      })
      expect(((await call('GET', '/v1/webhooks/dead-letters')).body.deliveries as object[]).length).toBe(0)
      await call('PATCH', `/v1/webhooks/${h.id}`, { enabled: false })
    })

    it('rotates the secret: during the grace period both sign, after it only the new one', async () => {
      rx.setBehaviour(() => ({ status: 200 }))
      const h = await register('/rotate', ['snapshot.anchored'])
      const r1 = await call('POST', `/v1/webhooks/${h.id}/rotate-secret`, { graceSeconds: 3600 })
      expect(r1.status).toBe(200)
      const next = r1.body.secret as string
      expect(next).not.toBe(h.secret)
      expect(r1.body.previousSecretUntil).not.toBeNull()
      await anchor('s1', 4)
      await until('a delivery at /rotate', () => rx.on('/rotate').length >= 1)
      checked(rx.on('/rotate')[0]!, next)
      checked(rx.on('/rotate')[0]!, h.secret)
      const r2 = await call('POST', `/v1/webhooks/${h.id}/rotate-secret`, {})
      const last = r2.body.secret as string
      expect(r2.body.previousSecretUntil).toBeNull()
      await anchor('s1', 5)
      await until('a second delivery at /rotate', () => rx.on('/rotate').length >= 2)
      const second = rx.on('/rotate')[1]!
      checked(second, last)
      const h2 = second.headers['cairn-webhook-signature'] as string
      expect(verifyWebhookSignature(next, h2, second.body, Date.now() / 1000).ok).toBe(false)
      expect((await call('POST', `/v1/webhooks/${h.id}/rotate-secret`, { graceSeconds: -1 })).status).toBe(400)
      await call('PATCH', `/v1/webhooks/${h.id}`, { enabled: false })
    })

    it.skipIf(driver === 'pglite')(
      'two instances over one PostgreSQL deliver each event once between them (SKIP LOCKED leases)',
      async () => {
        // The first 8 requests to /shared are held 1.5 s (under the 3 s request timeout: one
        // instance's 8 slots busy), the rest 200 ms: whichever instance took the first ones, the
        // other must take some of the rest, whatever the machine's load does to its 50 ms polls
        // (a fixed 200 ms hold left that to timing).
        rx.setBehaviour((path, n) => ({ status: 200, delayMs: path === '/shared' ? (n <= 8 ? 1_500 : 200) : 0 }))
        const other = await openPostgres(db.url!)
        const two = make(other, 'two')
        const delivered = (x: ReservesService) =>
          x.registry.getSingleMetric('cairn_reserves_webhook_deliveries_total')!.get() as Promise<{
            values: { value: number; labels: { outcome?: string } }[]
          }>
        const count = async (x: ReservesService) =>
          (await delivered(x)).values.find((v) => v.labels.outcome === 'delivered')?.value ?? 0
        try {
          for (const w of (await call('GET', '/v1/webhooks')).body.webhooks as Hook[])
            await call('PATCH', `/v1/webhooks/${w.id}`, { enabled: false })
          await until('no backlog', async () => ((await svc.webhooks.deliveries.backlog()) === 0 ? true : undefined))
          const before = await count(svc)
          // a burst: 16 events committed at once; the first 8 requests hold an instance's 8 slots for
          // 1.5 s, so the other instance (polling every 50 ms) takes some of the rest
          const h = await register('/shared', ['snapshot.anchored'])
          await db.sql.transaction(async (tx) => {
            for (let i = 0; i < 16; i++) await recordEvent(tx, 'snapshot.anchored', { snapshotId: 's1', n: i })
          })
          await until('16 deliveries at /shared', () => rx.on('/shared').length >= 16)
          await until('backlog empty', async () => ((await svc.webhooks.deliveries.backlog()) === 0 ? true : undefined))
          const ids = rx.on('/shared').map((r) => checked(r, h.secret).id)
          expect(ids).toHaveLength(16)
          expect(new Set(ids).size).toBe(16)
          const [byOne, byTwo] = [(await count(svc)) - before, await count(two)]
          process.stdout.write(`deliveries by instance one: ${byOne}, by instance two: ${byTwo}\n`)
          expect(byOne + byTwo).toBe(16)
          expect(byTwo).toBeGreaterThan(0)
        } finally {
          await two.close()
          await other.close()
        }
      },
    )
  })
}
