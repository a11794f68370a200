// Bearer tokens whose times no identity provider would issue are refused (401, saying which
// bound), whatever signed them: one expiring in the year 3000, one issued or valid from a year
// ahead. The bounds are the service's options (cairn reserves serve --jwt-max-lifetime, --jwt-clock-skew).
import { signHs256 } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { createAuthenticator } from '../src/kernel/authenticator.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('token-times-secret-token-times!!!')
const NOW_MS = Date.UTC(2026, 10, 29, 12, 0, 0)
const now = NOW_MS / 1000
const YEAR = 365 * 86_400
const token = (claims: Record<string, unknown>) => signHs256({ sub: 'ops', role: 'admin', ...claims }, secret)

describe('bearer token times', () => {
  let db: OpenedSql
  let strict: ReservesService
  const get = (svc: ReservesService, t: string) =>
    svc.app.inject({ method: 'GET', url: '/v1/ledger', headers: { authorization: `Bearer ${t}` } })
  beforeAll(async () => {
    db = await openTestSql('pglite')
    strict = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret },
      { sql: db.sql, key: parseKeyFile('3a'.repeat(32)), logger: silentLogger, clockMs: () => NOW_MS },
    )
  })
  afterAll(async () => {
    await strict?.close()
    await db?.close()
  })

  it('refuses a token expiring in the year 3000, or issued or valid from a year ahead, saying why', async () => {
    const cases: [string, string, RegExp, RegExp][] = [
      [
        'exp in the year 3000',
        token({ iat: now, exp: Date.UTC(3000, 0, 1) / 1000 }),
        /^JWT lifetime is too long \(exp 3000-01-01T00:00:00\.000Z: \d+ s, this service accepts at most 86400 s\)$/,
        /--ttl .*--jwt-max-lifetime/,
      ],
      [
        'exp in the year 3000, no iat',
        token({ exp: Date.UTC(3000, 0, 1) / 1000 }),
        /^JWT lifetime is too long/,
        /--jwt-max-lifetime/,
      ],
      [
        'an old iat with an exp a year on',
        token({ iat: now - 3600, exp: now + YEAR }),
        /^JWT lifetime is too long/,
        /--jwt-max-lifetime/,
      ],
      [
        'issued a year ahead',
        token({ iat: now + YEAR, exp: now + YEAR + 600 }),
        /^JWT was issued in the future \(iat 2027-11-29T12:00:00\.000Z, more than 60 s ahead of this server's clock\)$/,
        /clock.*--jwt-clock-skew/,
      ],
      ['valid from a year ahead', token({ iat: now, nbf: now + YEAR, exp: now + 600 }), /^JWT is not valid yet/, /.+/],
    ]
    for (const [what, t, message, hint] of cases) {
      const r = await get(strict, t)
      expect(r.statusCode, what).toBe(401)
      expect(r.json().code, what).toBe('RESERVES_UNAUTHENTICATED')
      expect(r.json().message, what).toMatch(message)
      expect(r.json().hint, what).toMatch(hint)
    }
  })

  it('accepts tokens within the bounds: a day long, issued within the clock skew', async () => {
    expect((await get(strict, token({ iat: now, exp: now + 86_400 }))).statusCode).toBe(200)
    expect((await get(strict, token({ iat: now + 30, exp: now + 3600 }))).statusCode).toBe(200)
    expect((await get(strict, token({ iat: now - 80_000, exp: now + 6_000 }))).statusCode).toBe(200)
    expect(
      (await get(strict, signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 3600 }, NOW_MS))).statusCode,
    ).toBe(200)
  })

  it("takes its bounds from the options (the service's tokenTimes, --jwt-max-lifetime and --jwt-clock-skew)", async () => {
    const lenient = createAuthenticator(
      {
        jwtSecret: secret,
        jwks: null,
        apiKeys: [],
        tokenTimes: { maxLifetimeSeconds: 30 * 86_400, clockSkewSeconds: 300 },
      },
      { logger: silentLogger, metrics: null, clockMs: () => NOW_MS },
    )
    const auth = (t: string) => lenient({ authorization: `Bearer ${t}` })
    const week = token({ iat: now, exp: now + 7 * 86_400 })
    expect((await get(strict, week)).statusCode).toBe(401)
    expect(await auth(week)).toMatchObject({ sub: 'ops', role: 'admin' })
    const aheadFourMinutes = token({ iat: now + 240, exp: now + 3600 })
    expect((await get(strict, aheadFourMinutes)).statusCode).toBe(401)
    expect(await auth(aheadFourMinutes)).toMatchObject({ sub: 'ops' })
    await expect(auth(token({ iat: now, exp: Date.UTC(3000, 0, 1) / 1000 }))).rejects.toMatchObject({
      code: 'RESERVES_UNAUTHENTICATED',
      message: expect.stringMatching(/at most 2592000 s/),
    })
  })
})
