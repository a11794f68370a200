// service-kit's authenticator with two role tables (the RPC's ordered one, reserves' unordered
// one): API keys in constant time, HS256 with per-service claim policies, alg confusion refused,
// the token cache bounded by exp. No sockets: JWKS tokens are covered by rpc's and reserves' tests.
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Authenticator,
  checkHmacSecret,
  defineRoles,
  findApiKey,
  hashApiKey,
  roleAllows,
  ServiceErrorCode,
  signHs256,
} from '../src/index.ts'

const SECRET = new Uint8Array(32).fill(7)
const ordered = defineRoles(['public', 'user', 'admin'] as const, { ordered: true })
const duties = defineRoles(['admin', 'auditor', 'user'] as const, { ordered: false })
const NOW = 1_800_000_000

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (err) {
    expect(isCairnError(err, ServiceErrorCode.AUTH_INVALID)).toBe(true)
    return (err as Error).message
  }
  throw new Error('not refused')
}

describe('role tables', () => {
  it('ordered: a higher role may do what a lower may; unordered: only the listed roles', () => {
    expect(roleAllows(ordered, 'admin', 'user')).toBe(true)
    expect(roleAllows(ordered, 'user', 'admin')).toBe(false)
    expect(roleAllows(duties, 'admin', 'auditor')).toBe(false)
    expect(roleAllows(duties, 'auditor', ['admin', 'auditor'])).toBe(true)
  })
})

describe('API keys', () => {
  it('finds exactly the entry whose key hashes to it (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 8 }), fc.nat(), (keys, i) => {
        const entries = keys.map((k, n) => ({ name: `k${n}`, keyHash: hashApiKey(k), role: 'user' }))
        const pick = i % keys.length
        expect(findApiKey(entries, keys[pick] as string)?.name).toBe(`k${pick}`)
        expect(findApiKey(entries, `${keys.join('')}-not-a-key`)).toBeUndefined()
      }),
    )
  })
})

describe('Authenticator', () => {
  const rpcLike = new Authenticator(ordered, {
    apiKeys: [{ name: 'ops', keyHash: hashApiKey('ops-key-ops-key'), role: 'admin' }],
    hs256: { secret: SECRET, iatLeewaySeconds: 60, defaultRole: 'public' },
    jwks: null,
  })
  const reservesLike = new Authenticator(duties, {
    apiKeys: [],
    hs256: { secret: SECRET, requireExp: true, requireSub: true, defaultRole: null },
    jwks: null,
    tokenCache: 100,
  })
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

  it('no credentials: null; an API key as x-api-key or Bearer', async () => {
    expect(await rpcLike.authenticate({})).toBeNull()
    expect(await rpcLike.authenticate({ 'x-api-key': 'ops-key-ops-key' })).toEqual({
      via: 'apiKey',
      name: 'ops',
      role: 'admin',
    })
    expect((await rpcLike.authenticate(bearer('ops-key-ops-key')))?.role).toBe('admin')
    expect(await refusal(rpcLike.authenticate({ 'x-api-key': 'nope' }))).toBe('unknown API key')
    expect(await refusal(rpcLike.authenticate({ authorization: 'Basic b3BzOmtleQ==' }))).toMatch(/use Bearer/)
  })

  it("HS256 per the service's policy: iat leeway (RPC), exp and sub required (reserves)", async () => {
    const ms = NOW * 1000
    const fresh = signHs256({ iat: NOW, role: 'user', sub: 'bob' }, SECRET)
    expect(await rpcLike.authenticate(bearer(fresh), ms)).toEqual({ via: 'jwt', name: 'bob', role: 'user' })
    expect((await rpcLike.authenticate(bearer(signHs256({ iat: NOW }, SECRET)), ms))?.role).toBe('public')
    expect(await refusal(rpcLike.authenticate(bearer(signHs256({ iat: NOW - 61 }, SECRET)), ms))).toMatch(/stale/)
    expect(await refusal(rpcLike.authenticate(bearer(signHs256({ iat: NOW, role: 'root' }, SECRET)), ms))).toBe(
      'JWT claim role must be one of public, user, admin',
    )
    expect(await refusal(rpcLike.authenticate(bearer(signHs256({ iat: NOW }, new Uint8Array(32))), ms))).toBe(
      'bad JWT signature',
    )
    // reserves: no iat check, but exp, sub and a role are required
    expect(await refusal(reservesLike.authenticate(bearer(signHs256({ sub: 'a', role: 'user' }, SECRET)), ms))).toBe(
      'JWT has no exp claim',
    )
    expect(
      await refusal(reservesLike.authenticate(bearer(signHs256({ exp: NOW + 9, role: 'user' }, SECRET)), ms)),
    ).toBe('JWT has no sub claim')
    expect(await refusal(reservesLike.authenticate(bearer(signHs256({ exp: NOW + 9, sub: 'a' }, SECRET)), ms))).toMatch(
      /no role claim/,
    )
    const ok = signHs256({ exp: NOW + 9, sub: 'a', role: 'auditor' }, SECRET)
    expect(await reservesLike.authenticate(bearer(ok), ms)).toEqual({
      via: 'jwt',
      name: 'a',
      role: 'auditor',
      expiresAt: NOW + 9,
    })
  })

  it('the token cache never outlives exp', async () => {
    const token = signHs256({ exp: NOW + 5, sub: 'a', role: 'user' }, SECRET)
    expect((await reservesLike.authenticate(bearer(token), NOW * 1000))?.role).toBe('user')
    expect((await reservesLike.authenticate(bearer(token), (NOW + 4) * 1000))?.role).toBe('user')
    expect(await refusal(reservesLike.authenticate(bearer(token), (NOW + 5) * 1000))).toBe('JWT expired')
  })

  it('alg confusion is refused: an RS256 header never meets the HMAC secret, `none` is refused', async () => {
    const [, payload, sig] = signHs256({ iat: NOW, role: 'admin' }, SECRET).split('.')
    for (const alg of ['RS256', 'none', 'HS512']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')
      expect(await refusal(rpcLike.authenticate(bearer(`${header}.${payload}.${sig}`), NOW * 1000))).toMatch(
        /need a JWKS URL|is not accepted/,
      )
    }
  })

  it('refuses HS256 secrets under 32 bytes', () => {
    expect(() => checkHmacSecret(new Uint8Array(31))).toThrow(/at least 32 bytes/)
    let thrown: unknown
    try {
      checkHmacSecret(new Uint8Array(0))
    } catch (err) {
      thrown = err
    }
    expect(isCairnError(thrown, ServiceErrorCode.AUTH_SECRET_INVALID)).toBe(true)
  })
})
