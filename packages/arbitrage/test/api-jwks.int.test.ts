// RS256/ES256 bearer tokens against a JWKS served by a real local HTTP server (as an OAuth2/OIDC
// provider would), signed here with node:crypto: issuer, audience, expiry, the role claim and the
// key id are all checked (expiry by the wall clock: jose verifies with it); a JWKS that cannot be fetched is a 503, not a 401; token subjects are
// rate-limited as principals.
import { sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createLogger, createMetricsRegistry, HealthChecks } from '@cairn/service-kit'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArbErrorCode } from '../src/errors.ts'
import { RiskGuard } from '../src/risk/guard.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import type { ConfigStore } from '../src/store/config-store.ts'
import type { ArbStore } from '../src/store/store.ts'

const ISSUER = 'https://idp.test/'
const AUDIENCE = 'cairn-arb'

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url')

function mint(
  alg: 'RS256' | 'ES256',
  key: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  o: { iss?: string; aud?: string; expIn?: number; now?: number } = {},
): string {
  const now = Math.floor((o.now ?? Date.now()) / 1000)
  const header = b64(JSON.stringify({ alg, kid, typ: 'JWT' }))
  const payload = b64(
    JSON.stringify({
      iss: o.iss ?? ISSUER,
      aud: o.aud ?? AUDIENCE,
      iat: now - 5,
      exp: now + (o.expIn ?? 300),
      ...claims,
    }),
  )
  const data = Buffer.from(`${header}.${payload}`)
  const sig =
    alg === 'RS256' ? cryptoSign('sha256', data, key) : cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
  return `${header}.${payload}.${b64(sig)}`
}

function makeApp(url: string, timeoutMs: number, registry = createMetricsRegistry({ version: 't', commit: 't' })) {
  return createArbApi(
    {
      auth: {
        jwtSecret: null,
        jwks: { url, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'cairn_role', timeoutMs },
        apiKeys: [],
      },
      edge: DEFAULT_EDGE,
      rateLimit: { enabled: true, windowMs: 60_000, perIp: 1000, perPrincipal: 20, onStoreError: 'open' },
    },
    {
      store: { listAudit: async () => [] } as unknown as ArbStore,
      config: {} as ConfigStore,
      guard: new RiskGuard({ killFile: null }),
      registry,
      health: new HealthChecks(),
      logger: createLogger({ level: 'silent', format: 'json' }),
      status: () => ({ ok: true }),
    },
  )
}

describe('arbitrage API: JWTs via a JWKS (RS256, ES256)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
  let server: Server
  let hits = 0
  let down = false
  let app: FastifyInstance
  let url: string

  beforeAll(async () => {
    const keys = [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ]
    server = createServer((req, res) => {
      hits++
      if (down) {
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
    app = makeApp(url, 1000)
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await new Promise<void>((r) => server?.close(() => r()))
  })

  const call = (url: string, token: string) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })

  it('accepts RS256 and ES256 tokens with the role in the configured claim', async () => {
    const viewer = mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'dana', cairn_role: 'viewer' })
    expect((await call('/v1/status', viewer)).statusCode).toBe(200)
    expect((await call('/v1/audit', viewer)).statusCode).toBe(403)
    const admin = mint('ES256', ec.privateKey, 'ec-1', { sub: 'ops', cairn_role: 'admin' })
    expect((await call('/v1/audit', admin)).statusCode).toBe(200)
    expect(hits).toBeGreaterThanOrEqual(1)
  })

  it.each([
    [
      'a foreign issuer',
      () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x', cairn_role: 'admin' }, { iss: 'https://evil/' }),
    ],
    [
      'a foreign audience',
      () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x', cairn_role: 'admin' }, { aud: 'other' }),
    ],
    [
      'an expired token',
      () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x', cairn_role: 'admin' }, { expIn: -120 }),
    ],
    ['a key not in the JWKS', () => mint('RS256', stranger.privateKey, 'rsa-1', { sub: 'x', cairn_role: 'admin' })],
    ['no role', () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x' })],
    ['the role in the default claim only', () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x', role: 'admin' })],
    ['an unknown role', () => mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'x', cairn_role: 'root' })],
    ['no subject', () => mint('ES256', ec.privateKey, 'ec-1', { cairn_role: 'admin' })],
  ])('refuses %s (401)', async (_what, token) => {
    const r = await call('/v1/status', token())
    expect(r.statusCode).toBe(401)
    expect(r.json().code).toBe(ArbErrorCode.UNAUTHENTICATED)
  })

  it('the OpenAPI document names the JWKS scheme with its issuer, audience and role claim', async () => {
    const doc = (await app.inject({ url: '/docs' })).json()
    expect(doc.components.securitySchemes.bearerJwks.description).toContain(`iss ${ISSUER}, aud ${AUDIENCE}`)
    expect(doc.components.securitySchemes.bearerJwks.description).toContain('claim cairn_role')
    expect(doc.paths['/v1/audit'].get.security).toContainEqual({ bearerJwks: [] })
  })

  it('rate-limits a token subject as one principal', async () => {
    const t = mint('ES256', ec.privateKey, 'ec-1', { sub: 'busy', cairn_role: 'viewer' })
    for (let i = 0; i < 20; i++) expect((await call('/v1/status', t)).statusCode).toBe(200)
    const r = await call('/v1/status', t)
    expect(r.statusCode).toBe(429)
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('a JWKS that cannot be fetched is a 503 (transient), not a 401', async () => {
    down = true
    const before = hits
    // a fresh service has no keys yet (jose refetches an unknown kid only after a 30 s cooldown)
    const registry = createMetricsRegistry({ version: 't', commit: 't' })
    const other = makeApp(url, 300, registry)
    try {
      const t = mint('RS256', rsa.privateKey, 'rsa-1', { sub: 'y', cairn_role: 'viewer' })
      const r = await other.inject({ method: 'GET', url: '/v1/status', headers: { authorization: `Bearer ${t}` } })
      expect(r.statusCode).toBe(503)
      expect(hits).toBeGreaterThan(before)
      expect(await registry.metrics()).toMatch(/cairn_outbound_calls_total\{target="jwks",outcome="error"\} [1-9]/)
    } finally {
      down = false
      await other.close()
    }
  })
})
