// RS256/ES256 bearer tokens checked against a JWKS served by a real local HTTP server that this
// test generates (as an OAuth2/OIDC provider would), alongside HS256 and API keys.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { silentLogger } from '@cairn/utils'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const ISSUER = 'https://idp.test'
const AUDIENCE = 'cairn-reserves'
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

async function mint(
  key: Key,
  alg: 'RS256' | 'ES256',
  kid: string,
  claims: Record<string, unknown>,
  o: { iss?: string; aud?: string; expSeconds?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (o.expSeconds ?? 300))
    .sign(key)
}

describe('reserves service: JWT via JWKS (RS256, ES256) beside HS256', () => {
  let jwksServer: Server
  let jwksHits = 0
  let jwksDown = false
  /** How far the service's clock runs ahead of the wall clock (the expiry test moves it). */
  let skewMs = 0
  let db: OpenedSql
  let svc: ReservesService
  let rsa: { privateKey: Key; publicKey: Key }
  let ec: { privateKey: Key; publicKey: Key }
  let stranger: { privateKey: Key }
  const hsSecret = new TextEncoder().encode('hs256-secret-hs256-secret-hs256!!')

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256')
    ec = await generateKeyPair('ES256')
    stranger = await generateKeyPair('RS256')
    const pub = async (k: { publicKey: Key }, kid: string, alg: string): Promise<JWK> => ({
      ...(await exportJWK(k.publicKey)),
      kid,
      alg,
      use: 'sig',
    })
    const keys = [await pub(rsa, 'rsa-1', 'RS256'), await pub(ec, 'ec-1', 'ES256')]
    jwksServer = createServer((req, res) => {
      jwksHits++
      if (jwksDown) {
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }))
    })
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`
    db = await openTestSql('pglite')
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: hsSecret,
        jwks: { url, issuer: ISSUER, audience: AUDIENCE, timeoutMs: 1000 },
        defaultMinDepth: 3,
      },
      { sql: db.sql, key: parseKeyFile('12'.repeat(32)), logger: silentLogger, clockMs: () => Date.now() + skewMs },
    )
    const admin = await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'admin' })
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=j1&currencies=BTC:8',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: 'userId,BTC\nalice,5\nbob,7\n',
    })
    expect(r.statusCode).toBe(202)
    await svc.idle()
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
    await new Promise((r) => jwksServer?.close(r))
  })

  const get = (url: string, token: string) =>
    svc.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })

  it('accepts RS256 and ES256 tokens from the JWKS with the role claim, and HS256 still works', async () => {
    const auditor = await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'kpmg', role: 'auditor' })
    expect((await get('/v1/snapshots/j1', auditor)).json().status).toBe('built')
    const alice = await mint(ec.privateKey, 'ES256', 'ec-1', { sub: 'alice', role: 'user' })
    const p = await get('/v1/snapshots/j1/proof', alice)
    expect(p.statusCode).toBe(200)
    expect(p.json().userId).toBe('alice')
    const hs = signToken(hsSecret, { sub: 'bob', role: 'user', ttlSeconds: 60 })
    expect((await get('/v1/snapshots/j1/proof', hs)).json().userId).toBe('bob')
  })

  it('refuses expired tokens, wrong keys, unknown kids, wrong issuer or audience, and unknown roles', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'expired',
        await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'admin' }, { expSeconds: -120 }),
        /expired/,
      ],
      [
        'wrong key, known kid',
        await mint(stranger.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'admin' }),
        /signature/,
      ],
      ['unknown kid', await mint(stranger.privateKey, 'RS256', 'rsa-9', { sub: 'ops', role: 'admin' }), /no key/],
      [
        'wrong issuer',
        await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'admin' }, { iss: 'https://evil' }),
        /iss/,
      ],
      [
        'wrong audience',
        await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'admin' }, { aud: 'other-api' }),
        /aud/,
      ],
      ['unknown role', await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'ops', role: 'superuser' }), /role claim/],
      ['no role', await mint(ec.privateKey, 'ES256', 'ec-1', { sub: 'ops' }), /role claim/],
      // The provider's signature does not make any lifetime acceptable (token-times.ts).
      [
        'expiring in the year 3000',
        await mint(
          rsa.privateKey,
          'RS256',
          'rsa-1',
          { sub: 'ops', role: 'admin' },
          { expSeconds: 32_503_680_000 - Math.floor(Date.now() / 1000) },
        ),
        /JWT lifetime is too long \(exp 3000-01-01T00:00:00\.000Z/,
      ],
    ]
    for (const [what, token, reason] of cases) {
      const r = await get('/v1/snapshots/j1', token)
      expect(r.statusCode, what).toBe(401)
      expect(r.json().code, what).toBe('RESERVES_UNAUTHENTICATED')
      expect(r.json().message, what).toMatch(reason)
    }
  })

  it('a remembered token stops working when it expires', async () => {
    const short = signToken(hsSecret, { sub: 'bob', role: 'user', ttlSeconds: 2 })
    expect((await get('/v1/snapshots/j1/proof', short)).statusCode).toBe(200)
    expect((await get('/v1/snapshots/j1/proof', short)).statusCode).toBe(200) // from the token cache
    // The service's clock moves past the expiry (its injected clock) instead of the test waiting.
    skewMs = 2_100
    try {
      const late = await get('/v1/snapshots/j1/proof', short)
      expect(late.statusCode).toBe(401)
      expect(late.json().message).toMatch(/expired/)
    } finally {
      skewMs = 0
    }
  })

  it('a valid token with a role that may not do this is 403; an HS256 token forged with a JWKS public key is 401', async () => {
    const user = await mint(ec.privateKey, 'ES256', 'ec-1', { sub: 'alice', role: 'user' })
    expect((await get('/v1/snapshots/j1/proofs/bob', user)).statusCode).toBe(403)
    expect((await get('/v1/audit', user)).statusCode).toBe(403)
    // algorithm confusion: HS256 with the public JWK as the secret must not pass
    const pubJwk = JSON.stringify(await exportJWK(rsa.publicKey))
    const forged = signToken(new TextEncoder().encode(pubJwk), { sub: 'ops', role: 'admin', ttlSeconds: 60 })
    expect((await get('/v1/snapshots/j1', forged)).statusCode).toBe(401)
  })

  it('when the JWKS is unreachable, a token with a new kid is 503 (transient), not 401', async () => {
    jwksDown = true
    const before = jwksHits
    // a kid never seen makes jose refetch (after its 30 s cooldown for the same set: a fresh service)
    const other = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwks: {
          url: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`,
          issuer: ISSUER,
          audience: AUDIENCE,
          timeoutMs: 300,
        },
      },
      { sql: db.sql, key: parseKeyFile('12'.repeat(32)), logger: silentLogger },
    )
    try {
      const t = await mint(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'kpmg', role: 'auditor' })
      const r = await other.app.inject({
        method: 'GET',
        url: '/v1/snapshots/j1',
        headers: { authorization: `Bearer ${t}` },
      })
      expect(r.statusCode).toBe(503)
      expect(jwksHits).toBeGreaterThan(before)
      const m = await other.registry.metrics()
      expect(m).toMatch(/cairn_outbound_calls_total\{target="jwks",outcome="error"\} [1-9]/)
    } finally {
      jwksDown = false
      await other.close()
    }
  })
})
