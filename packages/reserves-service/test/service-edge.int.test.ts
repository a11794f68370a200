import { request } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { ReservesErrorCode } from '@cairn/reserves'
import { isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const key = parseKeyFile('ab'.repeat(32))
const secret = new TextEncoder().encode('edge-test-secret-edge-test-secret!')
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }

describe('reserves service edge', () => {
  let db: OpenedSql
  let svc: ReservesService
  let port: number
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3, maxJsonBytes: 4096 },
      { sql: db.sql, key, logger: silentLogger },
    )
    await svc.app.listen({ host: '127.0.0.1', port: 0 })
    port = (svc.app.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it.each([0, 1, 31])('refuses an HS256 secret of %i bytes (an empty key would make every token admin)', (n) => {
    let thrown: unknown
    try {
      createReservesService(
        { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: new Uint8Array(n) },
        { sql: db.sql, key, logger: silentLogger },
      )
    } catch (err) {
      thrown = err
    }
    expect(isCairnError(thrown) && thrown.code).toBe(ReservesErrorCode.BAD_OPTIONS)
    expect((thrown as Error).message).toContain(`is ${n} byte(s); an HS256 secret must be at least 32 bytes`)
    expect(() => signToken(new Uint8Array(n), { sub: 'x', role: 'admin', ttlSeconds: 60 })).toThrow(/at least 32 bytes/)
  })

  it('answers 401 to an anonymous upload before reading its body', async () => {
    // Headers announce 300 MB; only the first 64 KiB is ever sent. The answer must come while the
    // body is still open: the service never waits for (nor buffers, nor parses) what follows.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/snapshots',
        headers: { 'content-type': 'application/json', 'content-length': String(300 << 20) },
      })
      req.on('response', (res) => {
        let text = ''
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text })
          req.destroy()
        })
      })
      req.on('error', reject)
      req.write(Buffer.alloc(64 << 10, 0x20))
    })
    expect(status).toBe(401)
    expect(JSON.parse(body).code).toBe(ReservesErrorCode.UNAUTHENTICATED)
  })

  it('checks credentials before the body limit, and applies small JSON limits to every route', async () => {
    const big = JSON.stringify({ userIds: Array.from({ length: 400 }, (_, i) => `user-${i}-${'x'.repeat(8)}`) })
    expect(big.length).toBeGreaterThan(4096)
    const anonymous = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots/s1/proofs/batch',
      headers: { 'content-type': 'application/json' },
      payload: big,
    })
    expect(anonymous.statusCode).toBe(401)
    const authed = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots/s1/proofs/batch',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: big,
    })
    expect(authed.statusCode).toBe(413)
  })

  it('takes a JSON snapshot up to its own limit, above the small one of other routes', async () => {
    const entries = Array.from({ length: 150 }, (_, i) => ({ userId: `u${i}`, balances: { BTC: String(i + 1) } }))
    const payload = JSON.stringify({ id: 'json-1', currencies: [{ symbol: 'BTC', decimals: 8 }], entries })
    expect(payload.length).toBeGreaterThan(4096)
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots',
      headers: { ...admin, 'content-type': 'application/json' },
      payload,
    })
    expect(r.statusCode).toBe(202)
    await svc.idle()
  })
})

describe("service-kit's edge in front of the reserves service", () => {
  let db: OpenedSql
  let svc: ReservesService
  const lag = { ms: 0, lagMs: () => lag.ms, close: () => {} }
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        edge: {
          vhosts: ['reserves.example'],
          cors: ['https://auditor.example'],
          maxConnectionsPerIp: 0,
          shedLagMs: 100,
        },
      },
      { sql: db.sql, key, logger: silentLogger, lag },
    )
    await svc.app.ready()
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it("every answer carries helmet's headers with the page's CSP and a request id", async () => {
    const page = await svc.app.inject({ method: 'GET', url: '/', headers: { host: 'reserves.example' } })
    expect(page.statusCode).toBe(200)
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['x-request-id']).toMatch(/.+/)
    const denied = await svc.app.inject({ method: 'GET', url: '/v1/snapshots', headers: { host: 'reserves.example' } })
    expect(denied.statusCode).toBe(401)
    expect(denied.headers['x-content-type-options']).toBe('nosniff')
  })

  it('refuses foreign hosts (403) before credentials, and sheds load (503 + Retry-After)', async () => {
    const foreign = await svc.app.inject({
      method: 'GET',
      url: '/v1/snapshots',
      headers: { host: 'evil.example', ...admin },
    })
    expect(foreign.statusCode).toBe(403)
    expect(foreign.json()).toMatchObject({ code: ReservesErrorCode.INVALID_HOST })
    lag.ms = 2500
    const shed = await svc.app.inject({
      method: 'GET',
      url: '/v1/snapshots',
      headers: { host: 'reserves.example', ...admin },
    })
    lag.ms = 0
    expect(shed.statusCode).toBe(503)
    expect(shed.headers['retry-after']).toBe('3')
    expect(shed.json()).toMatchObject({ code: ReservesErrorCode.OVERLOADED })
  })

  it('a browser page of any origin may open /v1/stream (its token is in the URL: nothing ambient to borrow)', async () => {
    await svc.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = svc.app.server.address() as AddressInfo
    type Ws = { on(e: string, f: (...a: unknown[]) => void): void; close(): void }
    const WebSocket = createRequire(import.meta.url)('ws') as new (
      url: string,
      o: { origin: string; headers: Record<string, string> },
    ) => Ws
    const token = signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?token=${token}`, {
      origin: 'https://portal.example',
      headers: { host: 'reserves.example' },
    })
    const first = await new Promise<string>((resolve, reject) => {
      ws.on('message', (d) => resolve(String(d)))
      ws.on('error', reject)
    })
    ws.close()
    expect(JSON.parse(first)).toMatchObject({ type: 'hello', role: 'admin' })
  })

  it('CORS only for the listed origin', async () => {
    const ask = (origin: string) =>
      svc.app.inject({
        method: 'OPTIONS',
        url: '/v1/snapshots',
        headers: { host: 'reserves.example', origin, 'access-control-request-method': 'GET' },
      })
    expect((await ask('https://auditor.example')).headers['access-control-allow-origin']).toBe(
      'https://auditor.example',
    )
    expect((await ask('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined()
  })
})
