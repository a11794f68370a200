import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReservesErrorCode } from '../src/errors.ts'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/service/app.ts'
import { parseKeyFile } from '../src/service/at-rest.ts'
import { signToken } from '../src/service/auth.ts'
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
