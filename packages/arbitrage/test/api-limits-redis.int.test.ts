// Rate limits shared through Redis (127.0.0.1:6379; skipped with a message when unreachable): two
// API instances on one RedisRateLimitStore prefix charge a principal's requests to one window, so
// the limit holds across instances; another prefix is another set of windows.

import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { createLogger, createMetricsRegistry, HealthChecks, RedisRateLimitStore } from '@cairn/service-kit'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RiskGuard } from '../src/risk/guard.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import type { ConfigStore } from '../src/store/config-store.ts'
import type { ArbStore } from '../src/store/store.ts'

const REDIS = 'redis://127.0.0.1:6379/0'
const KEY = 'carol-key-0123456789abcdef01234'

const reachable = await new Promise<boolean>((resolve) => {
  const s = connect(6379, '127.0.0.1')
  s.once('connect', () => {
    s.end()
    resolve(true)
  })
  s.once('error', () => resolve(false))
})

function instance(store: RedisRateLimitStore): FastifyInstance {
  const logger = createLogger({ level: 'silent', format: 'json' })
  return createArbApi(
    {
      auth: { jwtSecret: null, apiKeys: [{ name: 'carol', role: 'viewer', key: KEY }] },
      edge: DEFAULT_EDGE,
      rateLimit: { enabled: true, windowMs: 60_000, perIp: 2, perPrincipal: 6, onStoreError: 'closed' },
    },
    {
      store: {} as ArbStore,
      config: {} as ConfigStore,
      guard: new RiskGuard({ killFile: null }),
      registry: createMetricsRegistry({ version: 't', commit: 't' }),
      health: new HealthChecks(),
      logger,
      status: () => ({ ok: true }),
      rateLimitStore: store,
    },
  )
}

describe.skipIf(!reachable)('arbitrage API rate limits in Redis', () => {
  const logger = createLogger({ level: 'silent', format: 'json' })
  // a prefix of this run's own: windows of earlier runs never count
  const prefix = `cairn:test:arb:${randomBytes(4).toString('hex')}:`
  const stores = [0, 1, 2].map(
    (i) =>
      new RedisRateLimitStore({ url: REDIS, prefix: i < 2 ? prefix : `${prefix}other:` }, { logger, registry: null }),
  )
  let apps: FastifyInstance[] = []

  beforeAll(async () => {
    for (const s of stores) await s.open()
    apps = stores.map(instance)
  })
  afterAll(async () => {
    for (const a of apps) await a.close()
    for (const s of stores) await s.close()
  })

  it('two instances share a principal’s window; a third prefix does not', async () => {
    const codes: number[] = []
    for (let i = 0; i < 8; i++) {
      const r = await apps[i % 2]!.inject({ url: '/v1/status', headers: { 'x-api-key': KEY } })
      codes.push(r.statusCode)
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 429, 429])
    const other = await apps[2]!.inject({ url: '/v1/status', headers: { 'x-api-key': KEY } })
    expect(other.statusCode).toBe(200)
  })

  it('and an anonymous IP’s window', async () => {
    const codes: number[] = []
    for (let i = 0; i < 3; i++)
      codes.push((await apps[i % 2]!.inject({ url: '/v1/status', remoteAddress: '10.7.7.7' })).statusCode)
    expect(codes).toEqual([401, 401, 429])
  })
})

describe.skipIf(reachable)('arbitrage API rate limits in Redis', () => {
  it.skip('skipped: no Redis at 127.0.0.1:6379', () => {})
})
