// The proof cache (memory LRU, then Redis at 127.0.0.1:6379 when reachable) and the service's
// Prometheus metrics at /metrics.
import { randomBytes } from 'node:crypto'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { DEFAULT_COMPLIANCE } from '../src/features/compliance/options.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const REDIS_URL = 'redis://127.0.0.1:6379'
const secret = new TextEncoder().encode('cache-test-secret-cache-test-secret')
const key = parseKeyFile('34'.repeat(32))
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})

async function redisUnavailable(): Promise<string | null> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  r.on('error', () => {})
  try {
    await r.connect()
    await r.ping()
    return null
  } catch (err) {
    return (err as Error).message
  } finally {
    r.disconnect()
  }
}

/** The value of one sample line of the Prometheus text format (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

const redisDown = await redisUnavailable()
if (redisDown) console.warn(`skipping the Redis proof-cache tests: ${REDIS_URL} is unreachable (${redisDown})`)

function service(db: OpenedSql, redisUrl: string | null): ReservesService {
  return createReservesService(
    {
      ...DEFAULT_SERVICE_OPTIONS,
      jwtSecret: secret,
      defaultMinDepth: 3,
      redisUrl,
      compliance: { ...DEFAULT_COMPLIANCE, auditorProofReaders: 'all' },
    },
    { sql: db.sql, key, logger: silentLogger },
  )
}

async function submit(svc: ReservesService, id: string): Promise<number> {
  const r = await svc.app.inject({
    method: 'POST',
    url: `/v1/snapshots?id=${id}&currencies=BTC:8,ETH:18`,
    headers: { ...bearer('admin', 'ops'), 'content-type': 'text/csv' },
    payload: 'userId,BTC,ETH\nalice,5,1\nbob,7,2\ncarol,1,1\n',
  })
  return r.statusCode
}

describe('proof cache in memory, and /metrics', () => {
  let db: OpenedSql
  let svc: ReservesService
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = service(db, null)
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it('serves a proof from memory the second time, with the same ETag, and counts it', async () => {
    expect(await submit(svc, 'm1')).toBe(202)
    // still building: no proof yet (and nothing cached)
    expect(
      (await svc.app.inject({ method: 'GET', url: '/v1/snapshots/m1/proof', headers: bearer('user', 'alice') }))
        .statusCode,
    ).toBe(409)
    await svc.idle()
    const a = await svc.app.inject({ method: 'GET', url: '/v1/snapshots/m1/proof', headers: bearer('user', 'alice') })
    const b = await svc.app.inject({ method: 'GET', url: '/v1/snapshots/m1/proof', headers: bearer('user', 'alice') })
    expect(a.statusCode).toBe(200)
    expect(b.body).toBe(a.body)
    expect(b.headers.etag).toBe(a.headers.etag)
    expect(verifyProof(a.json()).ok).toBe(true)
    const m = await svc.registry.metrics()
    expect(sample(m, 'cairn_reserves_proof_cache_total{tier="memory",result="hit"}')).toBe(1)
    // the request made while building looked too (and cached nothing): two misses
    expect(sample(m, 'cairn_reserves_proof_cache_total{tier="memory",result="miss"}')).toBe(2)
  })

  it('/metrics: requests by route and status, proof latency, build duration, cache, process metrics', async () => {
    await svc.app.inject({ method: 'GET', url: '/v1/snapshots/m1/proof', headers: {} }) // 401
    await svc.app.inject({ method: 'GET', url: '/v1/snapshots/m1/proofs/bob', headers: bearer('auditor', 'kpmg') })
    await svc.app.inject({ method: 'GET', url: '/nowhere' })
    const r = await svc.app.inject({ method: 'GET', url: '/metrics' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toContain('text/plain')
    const m = r.body
    const req = (route: string, status: number, method = 'GET') =>
      sample(m, `cairn_reserves_http_requests_total{method="${method}",route="${route}",status="${status}"}`)
    expect(req('/v1/snapshots/:id/proof', 200)).toBe(2)
    expect(req('/v1/snapshots/:id/proof', 409)).toBe(1)
    expect(req('/v1/snapshots/:id/proof', 401)).toBe(1)
    expect(req('/v1/snapshots', 202, 'POST')).toBe(1)
    expect(req('/v1/snapshots/:id/proofs/:userId', 200)).toBe(1)
    expect(m).toMatch(/cairn_reserves_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/)
    expect(m).not.toMatch(/route="\/v1\/snapshots\/m1/) // patterns, never raw URLs
    expect(sample(m, 'cairn_reserves_proof_serve_seconds_count{route="own"}')).toBe(3)
    expect(sample(m, 'cairn_reserves_proof_serve_seconds_count{route="staff"}')).toBe(1)
    expect(sample(m, 'cairn_reserves_snapshot_build_seconds_count{outcome="built"}')).toBe(1)
    expect(m).toContain('cairn_build_info{')
    expect(m).toContain('process_cpu_seconds_total')
  })
})

describe.skipIf(redisDown !== null)('proof cache in Redis (127.0.0.1:6379)', () => {
  let db: OpenedSql
  let a: ReservesService
  let b: ReservesService
  let redis: Redis
  const id = `rc-${randomBytes(5).toString('hex')}`
  beforeAll(async () => {
    db = await openTestSql('pglite')
    redis = new Redis(REDIS_URL)
    a = service(db, REDIS_URL)
    b = service(db, REDIS_URL)
    await Promise.all([a.opened, b.opened])
  })
  afterAll(async () => {
    const keys = await redis.keys(`cairn:reserves:proof:v1:${id}:*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await a?.close()
    await b?.close()
    await db?.close()
  })

  it('a proof cached by one instance is served by another from Redis, sealed and keyed without the user id', async () => {
    expect(a.proofCache.redisReady).toBe(true)
    expect(await submit(a, id)).toBe(202)
    await a.idle()
    const first = await a.app.inject({
      method: 'GET',
      url: `/v1/snapshots/${id}/proof`,
      headers: bearer('user', 'alice'),
    })
    expect(first.statusCode).toBe(200)
    let keys: string[] = []
    for (let i = 0; i < 250 && keys.length === 0; i++) {
      keys = await redis.keys(`cairn:reserves:proof:v1:${id}:*`)
      if (keys.length === 0) await new Promise((r) => setTimeout(r, 20))
    }
    expect(keys).toHaveLength(1)
    expect(keys[0]).not.toContain('alice')
    const stored = (await redis.getBuffer(keys[0]!))!
    expect(stored.includes(Buffer.from('alice'))).toBe(false) // sealed with the at-rest key
    expect(await redis.ttl(keys[0]!)).toBeGreaterThan(3600)

    // the users' rows go: only a cache can still answer for alice; bob was never cached
    await db.sql.query('DELETE FROM reserves_users WHERE snapshot_id = $1', [id])
    const viaRedis = await b.app.inject({
      method: 'GET',
      url: `/v1/snapshots/${id}/proof`,
      headers: bearer('user', 'alice'),
    })
    expect(viaRedis.statusCode).toBe(200)
    expect(viaRedis.body).toBe(first.body)
    expect(viaRedis.headers.etag).toBe(first.headers.etag)
    expect(
      (await b.app.inject({ method: 'GET', url: `/v1/snapshots/${id}/proof`, headers: bearer('user', 'bob') }))
        .statusCode,
    ).toBe(404)
    const m = await b.registry.metrics()
    expect(sample(m, 'cairn_reserves_proof_cache_total{tier="redis",result="hit"}')).toBe(1)
    expect(sample(m, 'cairn_reserves_proof_cache_total{tier="redis",result="miss"}')).toBe(1)
  })

  it('with Redis unreachable, proofs still come from the database and the failures are counted', async () => {
    const down = service(db, 'redis://127.0.0.1:1')
    try {
      await down.opened
      expect(await submit(down, `${id}-d`)).toBe(202)
      await down.idle()
      const r = await down.app.inject({
        method: 'GET',
        url: `/v1/snapshots/${id}-d/proof`,
        headers: bearer('user', 'carol'),
      })
      expect(r.statusCode).toBe(200)
      expect(verifyProof(r.json()).ok).toBe(true)
      const m = await down.registry.metrics()
      expect(sample(m, 'cairn_reserves_proof_cache_total{tier="redis",result="error"}')).toBe(1)
    } finally {
      await down.close()
    }
  })
})
