// The service's HTTP API in process (Fastify inject) over PGlite: roles, live and audited
// configuration, the kill switch, reads, P&L, OpenAPI, metrics and readiness.
import { createLogger, createMetricsRegistry, HealthChecks } from '@cairn/service-kit'
import { openPglite, type Sql } from '@cairn/service-kit/sql'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RiskGuard } from '../src/risk/guard.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import { signToken } from '../src/service/auth.ts'
import { EventHub } from '../src/service/events.ts'
import { ConfigStore } from '../src/store/config-store.ts'
import { migrateArb } from '../src/store/migrations.ts'
import { ArbStore } from '../src/store/store.ts'

const KEYS = {
  viewer: 'viewer-key-0123456789abcdef',
  operator: 'operator-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef012',
}
const SECRET = new Uint8Array(32).fill(7)
const TOKEN = `0x${'c'.repeat(40)}`
let sql: Sql
let app: FastifyInstance
let guard: RiskGuard
let killFile = false
let resets = 0
const hub = new EventHub()

const as = (role: keyof typeof KEYS) => ({ 'x-api-key': KEYS[role] })

beforeAll(async () => {
  sql = await openPglite(null)
  await migrateArb(sql)
  const store = new ArbStore(sql)
  guard = new RiskGuard({ killFile: '/tmp/never' }, { exists: () => killFile })
  const health = new HealthChecks()
  health.register('database', async () => void (await sql.query('SELECT 1')))
  await store.recordTrade({
    txHash: `0x${'1'.repeat(64)}`,
    opportunityId: 'o1',
    at: new Date('2026-11-23T10:05:00Z'),
    block: 10n,
    status: 'success',
    token: TOKEN,
    amountIn: 10n ** 18n,
    profit: 3n * 10n ** 16n,
    gasUsed: 150_000n,
    gasPrice: 2n * 10n ** 9n,
    gasCostBase: 3n * 10n ** 14n,
    realized: 3n * 10n ** 16n - 3n * 10n ** 14n,
    executor: 'x1',
  })
  app = createArbApi(
    {
      auth: {
        jwtSecret: SECRET,
        apiKeys: (Object.keys(KEYS) as (keyof typeof KEYS)[]).map((role) => ({
          name: `${role}-bot`,
          role,
          key: KEYS[role],
        })),
      },
      edge: DEFAULT_EDGE,
    },
    {
      store,
      config: new ConfigStore(sql),
      guard,
      registry: createMetricsRegistry({ version: 't', commit: 't' }),
      health,
      logger: createLogger({ level: 'silent', format: 'json' }),
      status: () => ({ head: 12n, pools: 3 }),
      resetBreaker: () => {
        resets++
      },
      events: hub,
    },
  )
  await app.ready()
}, 60_000)

afterAll(async () => {
  await app?.close()
  await sql?.close()
})

describe('arbitrage API', () => {
  it('refuses anonymous and under-privileged callers', async () => {
    expect((await app.inject({ url: '/v1/pools' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/v1/pools', headers: { 'x-api-key': 'nope-nope-nope-nope' } })).statusCode).toBe(
      401,
    )
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/config/minProfit',
      headers: as('viewer'),
      payload: { value: '5' },
    })
    expect(put.statusCode).toBe(403)
    expect(put.json().code).toBe('ARB_FORBIDDEN')
    expect((await app.inject({ url: '/v1/audit', headers: as('operator') })).statusCode).toBe(403)
    const jwt = signToken(SECRET, { sub: 'carol', role: 'viewer', ttlSeconds: 60 })
    expect((await app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${jwt}` } })).json()).toMatchObject(
      {
        head: '12',
        stopReason: null,
      },
    )
  })

  it('validates configuration writes, applies them live and audits who changed what', async () => {
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/config/maxIn',
      headers: as('operator'),
      payload: { value: 'lots' },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('ARB_CONFIG')
    const ok = await app.inject({
      method: 'PUT',
      url: '/v1/config/maxIn',
      headers: as('operator'),
      payload: { value: '5000' },
    })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ key: 'maxIn', value: '5000', version: 1, updatedBy: 'operator-bot' })
    expect(guard.limits().maxIn).toBe(5000n)
    const stale = await app.inject({
      method: 'PUT',
      url: '/v1/config/maxIn',
      headers: as('admin'),
      payload: { value: '6000', expectedVersion: 0 },
    })
    expect(stale.statusCode).toBe(409)
    const cfg = (await app.inject({ url: '/v1/config', headers: as('viewer') })).json()
    expect(cfg.entries.find((e: { key: string }) => e.key === 'maxIn')).toMatchObject({ value: '5000', version: 1 })
    const audit = (await app.inject({ url: '/v1/audit', headers: as('admin') })).json().entries
    expect(audit).toContainEqual(
      expect.objectContaining({
        actor: 'operator-bot',
        role: 'operator',
        action: 'config.set',
        details: { key: 'maxIn', old: null, new: '5000', version: 1 },
      }),
    )
  })

  it('engages and releases the kill switch (audited); a kill file stops trading too', async () => {
    const on = await app.inject({
      method: 'POST',
      url: '/v1/kill-switch',
      headers: as('operator'),
      payload: { engaged: true, reason: 'drill' },
    })
    expect(on.json()).toEqual({ engaged: true, stopReason: 'kill-switch' })
    expect(guard.killed()).toBe(true)
    await app.inject({ method: 'POST', url: '/v1/kill-switch', headers: as('operator'), payload: { engaged: false } })
    expect(guard.killed()).toBe(false)
    killFile = true
    expect((await app.inject({ url: '/v1/kill-switch', headers: as('viewer') })).json()).toEqual({
      engaged: false,
      stopReason: 'kill-file',
    })
    killFile = false
    const actions = (await app.inject({ url: '/v1/audit', headers: as('admin') }))
      .json()
      .entries.map((e: { action: string }) => e.action)
    expect(actions).toEqual(['config.set', 'config.set', 'kill-switch.reason', 'config.set'])
  })

  it('lets an operator reset the breaker (audited)', async () => {
    expect((await app.inject({ method: 'POST', url: '/v1/breaker/reset', headers: as('viewer') })).statusCode).toBe(403)
    const r = await app.inject({ method: 'POST', url: '/v1/breaker/reset', headers: as('operator') })
    expect(r.json()).toEqual({ reset: true, stopReason: null })
    expect(resets).toBe(1)
    const last = (await app.inject({ url: '/v1/audit', headers: as('admin') })).json().entries.at(-1)
    expect(last).toMatchObject({ actor: 'operator-bot', action: 'breaker.reset' })
  })

  it('serves trades and P&L by token with amounts as decimal strings', async () => {
    const trades = (await app.inject({ url: '/v1/trades', headers: as('viewer') })).json().trades
    expect(trades).toHaveLength(1)
    expect(trades[0]).toMatchObject({ token: TOKEN, profit: '30000000000000000', status: 'success' })
    const pnl = (await app.inject({ url: '/v1/pnl?bucket=day', headers: as('viewer') })).json()
    expect(pnl.totals[TOKEN]).toEqual({
      profit: '30000000000000000',
      gasCost: '300000000000000',
      realized: '29700000000000000',
      trades: 1,
    })
    expect(pnl.buckets[0].bucket).toBe('2026-11-23T00:00:00.000Z')
    expect((await app.inject({ url: '/v1/pnl?bucket=week', headers: as('viewer') })).statusCode).toBe(400)
  })

  it('streams events over a WebSocket to viewers, and refuses anonymous sockets', async () => {
    let refused!: Promise<{ message: string; code: number }>
    await app.injectWS(
      '/v1/stream',
      {},
      {
        onInit: (ws) => {
          refused = new Promise((r) => {
            let message = ''
            ws.on('message', (d: unknown) => {
              message = String(d)
            })
            ws.on('close', (code: number) => r({ message, code }))
          })
        },
      },
    )
    const r = await refused
    expect(r.code).toBe(4401)
    expect(JSON.parse(r.message).code).toBe('ARB_UNAUTHENTICATED')
    const got: Record<string, unknown>[] = []
    let hello!: Promise<void>
    let trade!: Promise<void>
    const ws = await app.injectWS(
      `/v1/stream?token=${KEYS.viewer}`,
      {},
      {
        onInit: (sock) => {
          let heard: () => void = () => {}
          let traded: () => void = () => {}
          hello = new Promise((res) => {
            heard = res
          })
          trade = new Promise((res) => {
            traded = res
          })
          sock.on('message', (d: unknown) => {
            got.push(JSON.parse(String(d)))
            if (got.length === 1) heard()
            if (got.length === 2) traded()
          })
        },
      },
    )
    try {
      await hello // subscribed by now: hello is sent after the subscription
      hub.publish({ type: 'trade', id: 'o9', tx: '0x09', status: 'success', token: TOKEN, profit: 5n, realized: 4n })
      await trade
      expect(got).toEqual([
        { type: 'hello' },
        { type: 'trade', id: 'o9', tx: '0x09', status: 'success', token: TOKEN, profit: '5', realized: '4' },
      ])
    } finally {
      ws.terminate()
    }
  })

  it('serves OpenAPI, metrics, health and readiness without credentials, with security headers', async () => {
    const docs = await app.inject({ url: '/docs' })
    expect(docs.json().openapi).toBe('3.1.0')
    expect(Object.keys(docs.json().paths)).toContain('/v1/kill-switch')
    expect(docs.headers['x-content-type-options']).toBe('nosniff')
    expect(docs.headers['x-request-id']).toBeTruthy()
    expect((await app.inject({ url: '/metrics' })).body).toContain('cairn_build_info')
    expect((await app.inject({ url: '/ready' })).json().status).toBe('ok')
  })
})
