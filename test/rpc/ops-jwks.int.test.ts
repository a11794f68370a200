// RS256/ES256 JWTs from an OIDC-style provider: a local HTTP server serves a JWKS made in the test
// (jose generateKeyPair); the node checks signature, kid, exp, iss and aud, and maps a role claim.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signHs256 as signJwt } from '@cairn/service-kit'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RpcResponse, type StartedNode, startDevNode } from './live-node.ts'

const ISSUER = 'https://idp.test'
const AUDIENCE = 'cairn-rpc'
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

let jwksServer: Server
let jwksFetches = 0
let node: StartedNode
let dir: string
const SECRET = randomBytes(32)
const keys: Record<string, Key> = {}

const now = () => Math.floor(Date.now() / 1000)

async function token(
  alg: 'RS256' | 'ES256',
  kid: string,
  claims: Record<string, unknown>,
  opts: { key?: Key; exp?: number; aud?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setSubject('carol')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now() + 300)
    .sign(opts.key ?? (keys[kid] as Key))
}

async function rpc(method: string, bearer: string) {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method, params: [] }),
  })
  return { status: res.status, body: (await res.json()) as RpcResponse }
}

beforeAll(async () => {
  const rsa = await generateKeyPair('RS256')
  const ec = await generateKeyPair('ES256')
  keys['rsa-1'] = rsa.privateKey
  keys['ec-1'] = ec.privateKey
  const published: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ]
  jwksServer = createServer((_req, res) => {
    jwksFetches++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: published }))
  })
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r))
  const addr = jwksServer.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  dir = mkdtempSync(join(tmpdir(), 'cairn-jwks-'))
  const secretFile = join(dir, 'jwtsecret')
  writeFileSync(secretFile, SECRET.toString('hex'), { mode: 0o600 })
  node = await startDevNode(
    {},
    {
      flags: {
        'auth.jwksUrl': `http://127.0.0.1:${port}/.well-known/jwks.json`,
        'auth.jwtIssuer': ISSUER,
        'auth.jwtAudience': AUDIENCE,
        'auth.jwtRoleClaim': 'realm_access.roles',
        'auth.jwtRoleMap': { 'node-admins': 'admin' },
      },
      env: { CAIRN_AUTH_JWT_SECRET_FILE: secretFile },
    },
  )
})
afterAll(async () => {
  await node?.close()
  await new Promise((r) => jwksServer?.close(r))
  rmSync(dir, { recursive: true, force: true })
})

describe('JWTs through a JWKS URL', () => {
  it('a valid RS256 token mapped to admin may mine', async () => {
    const r = await rpc(
      'evm_mine',
      await token('RS256', 'rsa-1', { realm_access: { roles: ['staff', 'node-admins'] } }),
    )
    expect(r.status).toBe(200)
    expect(r.body.error).toBeUndefined()
  })

  it('a valid ES256 token with the role user may send but not mine (403 naming admin)', async () => {
    const t = await token('ES256', 'ec-1', { realm_access: { roles: ['user'] } })
    const send = await rpc('eth_sendTransaction', t)
    expect(send.status).toBe(200)
    expect(send.body.error?.code).toBe(-32602) // past the gate, refused on its params
    const mine = await rpc('evm_mine', t)
    expect(mine.status).toBe(403)
    expect(mine.body.error?.message).toContain('needs role admin (you have user)')
  })

  it('a token whose claim maps to no role is refused, naming the claim (never silently public)', async () => {
    const r = await rpc('eth_sendRawTransaction', await token('ES256', 'ec-1', { realm_access: { roles: ['staff'] } }))
    expect(r.status).toBe(401)
    expect(r.body.error?.message).toMatch(/no realm_access\.roles claim naming a role.*needs role user/)
  })

  it('refuses expired tokens, a wrong key, an unknown kid, another audience — 401 saying why', async () => {
    const other = await generateKeyPair('RS256')
    const admin = { realm_access: { roles: ['node-admins'] } }
    const cases: [string, RegExp][] = [
      [await token('RS256', 'rsa-1', admin, { exp: now() - 120 }), /JWT expired/],
      [await token('RS256', 'rsa-1', admin, { key: other.privateKey }), /bad JWT signature/],
      [await token('RS256', 'rsa-9', admin, { key: other.privateKey }), /unknown kid/],
      [await token('ES256', 'ec-1', admin, { aud: 'someone-else' }), /claim "aud"/],
    ]
    for (const [t, why] of cases) {
      const r = await rpc('evm_mine', t)
      expect(r.status, String(why)).toBe(401)
      expect(r.body.error?.code).toBe(-32001)
      expect(r.body.error?.message).toMatch(why)
      expect(r.body.error?.message).toContain('needs role admin')
    }
  })

  it('HS256 tokens with the secret file still work beside the JWKS', async () => {
    const r = await rpc('evm_mine', signJwt({ iat: now(), role: 'admin' }, SECRET))
    expect(r.body.error).toBeUndefined()
  })

  it('a provider that cannot be reached: its tokens are refused (401 saying so), the node keeps serving', async () => {
    const down = await startDevNode({}, { flags: { 'auth.jwksUrl': 'http://127.0.0.1:1/jwks.json' } })
    try {
      const res = await fetch(down.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await token('RS256', 'rsa-1', { role: 'admin' })}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }),
      })
      expect(res.status).toBe(401)
      expect(((await res.json()) as RpcResponse).error?.message).toContain('the JWKS cannot be fetched now')
      const metrics = await (await fetch(`${down.url}/metrics`)).text()
      expect(metrics).toMatch(/^cairn_outbound_calls_total\{target="jwks",outcome="error"\} [1-9]/m)
      const read = await fetch(down.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      expect(((await read.json()) as RpcResponse).result).toBe('0x539')
    } finally {
      await down.close()
    }
  })

  it('the JWKS is cached: a handful of fetches for all the tokens above', () => {
    expect(jwksFetches).toBeGreaterThanOrEqual(1)
    expect(jwksFetches).toBeLessThanOrEqual(3)
  })
})
