// The API's rate limits with an injected clock (Fastify inject, no sockets): a principal and an IP
// each have their own sliding window, a refusal is 429 with Retry-After and counted by who was
// charged, the window slides with the clock, probes are never charged, and the schema refuses bad
// settings at startup.
import { createLogger, createMetricsRegistry, HealthChecks, type RateLimitStore } from '@cairn/service-kit'
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { apiSecurityFlags, tracingFlags } from '../src/cli/index.ts'
import { ArbErrorCode } from '../src/errors.ts'
import { RiskGuard } from '../src/risk/guard.ts'
import { parseApiSecurity } from '../src/service/api-config.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import type { ApiRateLimitOptions } from '../src/service/rate-limit.ts'
import type { ConfigStore } from '../src/store/config-store.ts'
import type { ArbStore } from '../src/store/store.ts'

const KEYS = { alice: 'alice-key-0123456789abcdef0123', bob: 'bob-key-0123456789abcdef012345' }

function api(
  rateLimit: ApiRateLimitOptions,
  clock: { now: number },
  store?: RateLimitStore,
): { app: FastifyInstance; registry: Registry } {
  const registry = createMetricsRegistry({ version: 't', commit: 't' })
  const app = createArbApi(
    {
      auth: {
        jwtSecret: null,
        apiKeys: [
          { name: 'alice', role: 'viewer', key: KEYS.alice },
          { name: 'bob', role: 'operator', key: KEYS.bob },
        ],
      },
      edge: DEFAULT_EDGE,
      rateLimit,
    },
    {
      store: {} as ArbStore,
      config: {} as ConfigStore,
      guard: new RiskGuard({ killFile: null }),
      registry,
      health: new HealthChecks(),
      logger: createLogger({ level: 'silent', format: 'json' }),
      status: () => ({ ok: true }),
      clockMs: () => clock.now,
      ...(store ? { rateLimitStore: store } : {}),
    },
  )
  return { app, registry }
}

const LIMITS: ApiRateLimitOptions = { enabled: true, windowMs: 10_000, perIp: 3, perPrincipal: 5, onStoreError: 'open' }

const get = (app: FastifyInstance, url: string, o: { key?: string; ip?: string } = {}) =>
  app.inject({
    method: 'GET',
    url,
    remoteAddress: o.ip ?? '10.0.0.1',
    headers: o.key ? { 'x-api-key': o.key } : {},
  })

async function refusals(registry: Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('cairn_arb_api_rate_limited_total')!.get()
  return Object.fromEntries(m.values.map((v) => [String(v.labels.caller), v.value]))
}

describe('arbitrage API rate limits (injected clock)', () => {
  it('charges a principal its own window, whatever its IP; 429 with Retry-After when spent', async () => {
    const clock = { now: 1_000_000 }
    const { app, registry } = api(LIMITS, clock)
    for (let i = 0; i < 5; i++) {
      const r = await get(app, '/v1/status', { key: KEYS.alice, ip: `10.0.0.${i + 1}` })
      expect(r.statusCode).toBe(200)
      clock.now += 1000
    }
    const refused = await get(app, '/v1/status', { key: KEYS.alice, ip: '10.9.9.9' })
    expect(refused.statusCode).toBe(429)
    expect(refused.json().code).toBe(ArbErrorCode.RATE_LIMITED)
    // the oldest hit (at 1 000 000) leaves the window at 1 010 000; now is 1 005 000: 5 s
    expect(refused.headers['retry-after']).toBe('5')
    // another principal is not affected, nor is an anonymous IP
    expect((await get(app, '/v1/status', { key: KEYS.bob })).statusCode).toBe(200)
    expect((await get(app, '/v1/kill-switch', { ip: '10.9.9.9' })).statusCode).toBe(401)
    expect(await refusals(registry)).toEqual({ principal: 1 })
    // the window slides: once the first hit is 10 s old, one more request fits
    clock.now = 1_000_000 + 10_000
    expect((await get(app, '/v1/status', { key: KEYS.alice })).statusCode).toBe(200)
    expect((await get(app, '/v1/status', { key: KEYS.alice })).statusCode).toBe(429)
    await app.close()
  })

  it('charges requests without valid credentials to their IP; bad credentials too', async () => {
    const clock = { now: 5_000 }
    const { app, registry } = api(LIMITS, clock)
    expect((await get(app, '/v1/status', { ip: '10.0.0.7' })).statusCode).toBe(401)
    expect((await get(app, '/v1/status', { ip: '10.0.0.7', key: 'not-a-key-0123456789abcdef012' })).statusCode).toBe(
      401,
    )
    expect((await get(app, '/nowhere', { ip: '10.0.0.7' })).statusCode).toBe(404)
    const r = await get(app, '/v1/status', { ip: '10.0.0.7' })
    expect(r.statusCode).toBe(429)
    expect(r.headers['retry-after']).toBe('10')
    // another IP has its own window; a valid key from the spent IP is charged to its principal
    expect((await get(app, '/v1/status', { ip: '10.0.0.8' })).statusCode).toBe(401)
    expect((await get(app, '/v1/status', { ip: '10.0.0.7', key: KEYS.alice })).statusCode).toBe(200)
    // probes and the scrape are never charged
    for (let i = 0; i < 10; i++) {
      expect((await get(app, '/health', { ip: '10.0.0.7' })).statusCode).toBe(200)
      expect((await get(app, '/metrics', { ip: '10.0.0.7' })).statusCode).toBe(200)
    }
    expect(await refusals(registry)).toEqual({ ip: 1 })
    await app.close()
  })

  it('a failing store follows the policy: open lets requests through, closed answers 503', async () => {
    const broken: RateLimitStore = {
      hit: () => {
        throw new Error('redis down')
      },
    }
    const clock = { now: 0 }
    const open = api({ ...LIMITS, perIp: 1 }, clock, broken)
    for (let i = 0; i < 3; i++) expect((await get(open.app, '/v1/status', { key: KEYS.alice })).statusCode).toBe(200)
    const closed = api({ ...LIMITS, onStoreError: 'closed' }, clock, broken)
    const r = await get(closed.app, '/v1/status', { key: KEYS.alice })
    expect(r.statusCode).toBe(503)
    expect(r.headers['retry-after']).toBe('1')
    expect(await refusals(closed.registry)).toEqual({})
    await open.app.close()
    await closed.app.close()
  })

  it('the OpenAPI document describes the 429, its Retry-After and the configured limits', async () => {
    const { app } = api(LIMITS, { now: 0 })
    const doc = (await get(app, '/docs')).json()
    const r429 = doc.paths['/v1/status'].get.responses['429']
    expect(r429.headers['Retry-After'].schema.type).toBe('integer')
    expect(r429.description).toContain('5 requests per 10 s per principal, 3 per IP')
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearer', 'apiKey'])
    await app.close()
  })

  it('disabled: never refuses', async () => {
    const { app } = api({ ...LIMITS, enabled: false, perIp: 1 }, { now: 0 })
    for (let i = 0; i < 5; i++) expect((await get(app, '/v1/status', { key: KEYS.alice })).statusCode).toBe(200)
    await app.close()
  })

  it('whatever the arrival times, a principal never gets more than its limit in any window', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 40 }), async (gaps) => {
        const clock = { now: 0 }
        const { app } = api({ ...LIMITS, windowMs: 5000, perPrincipal: 4 }, clock)
        const admitted: number[] = []
        for (const g of gaps) {
          clock.now += g
          const r = await get(app, '/v1/status', { key: KEYS.alice })
          if (r.statusCode === 200) admitted.push(clock.now)
          else {
            expect(r.statusCode).toBe(429)
            // refused only when the window really holds the limit
            expect(admitted.filter((t) => t > clock.now - 5000).length).toBe(4)
          }
        }
        for (const t of admitted) expect(admitted.filter((u) => u > t - 5000 && u <= t).length).toBeLessThanOrEqual(4)
        await app.close()
      }),
      { numRuns: 30 },
    )
  })
})

describe('API security settings (schema)', () => {
  it('defaults: no JWKS, limits on in memory', () => {
    const s = parseApiSecurity(apiSecurityFlags({}))
    expect(s.jwks).toBeNull()
    expect(s.rateLimit).toEqual({
      enabled: true,
      windowMs: 60_000,
      perIp: 300,
      perPrincipal: 3000,
      onStoreError: 'open',
      redisUrl: null,
    })
  })

  it('a JWKS with issuer, audience and role claim; the limits from flags', () => {
    const s = parseApiSecurity(
      apiSecurityFlags({
        jwksUrl: 'https://idp.example/.well-known/jwks.json',
        jwtIssuer: 'https://idp.example/',
        jwtAudience: 'cairn-arb',
        jwtRoleClaim: 'cairn/role',
        'rateLimit.perIp': '10',
        'rateLimit.redisUrl': 'redis://127.0.0.1:6379/0',
        'rateLimit.onStoreError': 'closed',
      }),
    )
    expect(s.jwks).toEqual({
      url: 'https://idp.example/.well-known/jwks.json',
      issuer: 'https://idp.example/',
      audience: 'cairn-arb',
      roleClaim: 'cairn/role',
      clockToleranceSeconds: 30,
      timeoutMs: 5000,
    })
    expect(s.rateLimit.perIp).toBe(10)
    expect(s.rateLimit.redisUrl).toBe('redis://127.0.0.1:6379/0')
    expect(s.rateLimit.onStoreError).toBe('closed')
  })

  it.each([
    [{ jwksUrl: 'https://idp.example/jwks' }, '--jwks-url needs --jwt-issuer'],
    [{ jwksUrl: 'ftp://idp.example/jwks', jwtIssuer: 'i', jwtAudience: 'a' }, 'http:// or https://'],
    [{ 'rateLimit.perIp': '0' }, '--rate-limit.per-ip must be ≥ 1'],
    [{ 'rateLimit.windowMs': 'soon' }, 'expected number'],
    [{ 'rateLimit.onStoreError': 'maybe' }, 'open'],
    [{ 'rateLimit.redisUrl': 'http://x' }, 'redis://'],
  ])('refuses %j', (flags, message) => {
    let err: unknown
    try {
      parseApiSecurity(apiSecurityFlags(flags))
    } catch (e) {
      err = e
    }
    expect(isCairnError(err, ArbErrorCode.CONFIG)).toBe(true)
    expect((err as Error).message).toContain(message)
  })

  it('tracing: off without an endpoint; the endpoint and ratio validated', () => {
    expect(tracingFlags({})).toBeNull()
    expect(tracingFlags({ otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', traceSampleRatio: '0.25' })).toEqual({
      otlpEndpoint: 'http://127.0.0.1:4318/v1/traces',
      sampleRatio: 0.25,
    })
    expect(() => tracingFlags({ otlpEndpoint: 'grpc://x:4317' })).toThrow('--otlp-endpoint must be an http(s) URL')
    expect(() => tracingFlags({ otlpEndpoint: 'http://x:4318', traceSampleRatio: '2' })).toThrow('bad tracing options')
  })

  it('refuses an issuer without a JWKS', () => {
    expect(() => apiSecurityFlags({ jwtIssuer: 'x' })).toThrow('--jwt-issuer and --jwt-audience need --jwks-url')
  })
})
