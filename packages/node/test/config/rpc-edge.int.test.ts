// Config keys of the RPC edge: CORS, virtual hosts, TLS, connection caps, load shedding, the Redis
// rate-limit store and JWKS; and the prod profile's refusal of CORS `*` with auth.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'

const load = (flags: Record<string, unknown>, env: Record<string, string> = {}) => loadConfig({ flags, env })
const KEY = { name: 'k', keyHash: 'ab'.repeat(32), role: 'admin' }

describe('RPC edge config', () => {
  it("defaults are geth's (no cross-origin, vhosts localhost, no TLS, memory store) with a per-IP connection cap and a request timeout", () => {
    const c = load({ dev: true })
    expect(c.http).toMatchObject({
      cors: [],
      vhosts: ['localhost'],
      maxConnectionsPerIp: 512,
      maxConnections: 'auto',
      firstByteTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      shedLagMs: 0,
      trustProxy: [],
    })
    expect(c.http.tlsCert).toBeUndefined()
    expect(c.rateLimit).toMatchObject({ store: 'memory', onStoreError: 'open' })
    expect(c.auth).toMatchObject({ jwtRoleClaim: 'role', jwtRoleMap: {} })
  })

  it('reads comma lists and JSON maps from the environment', () => {
    const c = load(
      { dev: true },
      {
        CAIRN_HTTP_CORS: 'https://app.example.com, http://localhost:3000',
        CAIRN_HTTP_VHOSTS: 'rpc.example.com,localhost',
        CAIRN_HTTP_TRUST_PROXY: '10.0.0.0/8, 192.168.1.7',
        CAIRN_AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
        CAIRN_AUTH_JWT_ROLE_MAP: '{"node-admins":"admin"}',
        CAIRN_RATE_LIMIT_STORE: 'redis',
        CAIRN_RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:6379/0',
      },
    )
    expect(c.http.cors).toEqual(['https://app.example.com', 'http://localhost:3000'])
    expect(c.http.vhosts).toEqual(['rpc.example.com', 'localhost'])
    expect(c.http.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.7'])
    expect(c.auth.jwtRoleMap).toEqual({ 'node-admins': 'admin' })
    expect(c.rateLimit.redisUrl).toBe('redis://127.0.0.1:6379/0')
  })

  it('bad values name the key and where they came from', () => {
    expect(() => load({ dev: true, 'http.cors': 'app.example.com' })).toThrow(/config "http\.cors" \(flag/)
    expect(() => load({ dev: true, 'http.tlsCert': '/c.pem' })).toThrow(/"http\.tlsCert".*go together/)
    expect(() => load({ dev: true }, { CAIRN_RATE_LIMIT_STORE: 'redis' })).toThrow(
      /"rateLimit\.store" \(environment CAIRN_RATE_LIMIT_STORE\).*redisUrl is required/,
    )
    expect(() => load({ dev: true, 'auth.jwksUrl': 'ftp://x/jwks' })).toThrow(/"auth\.jwksUrl"/)
    expect(() => load({ dev: true, 'rateLimit.store': 'memcached' })).toThrow(/"rateLimit\.store"/)
  })

  it('prod refuses CORS * together with auth, and says so; either alone is accepted', () => {
    expect(() => load({ 'http.cors': '*', 'auth.apiKeys': [KEY] })).toThrow(/http\.cors "\*" with auth/)
    expect(() => load({ 'http.cors': '*', 'auth.jwksUrl': 'https://idp.example.com/jwks' })).toThrow(
      /CONFIG_INSECURE|with auth/,
    )
    expect(load({ 'http.cors': '*' }).http.cors).toEqual(['*'])
    expect(load({ 'http.cors': 'https://app.example.com', 'auth.apiKeys': [KEY] }).http.cors).toHaveLength(1)
    expect(load({ dev: true, 'http.cors': '*', 'auth.apiKeys': [KEY] }).http.cors).toEqual(['*'])
  })
})

describe('config print', () => {
  it('redacts the password inside rateLimit.redisUrl', async () => {
    const { loadConfigWithSources } = await import('../../src/config/load.ts')
    const { printConfig } = await import('../../src/config/print.ts')
    const out = printConfig(
      loadConfigWithSources({
        flags: { dev: true },
        env: { CAIRN_RATE_LIMIT_STORE: 'redis', CAIRN_RATE_LIMIT_REDIS_URL: 'redis://:hunter2secret@10.0.0.5:6379/1' },
      }),
    )
    expect(out).toContain('rateLimit.redisUrl = "redis://:[redacted]@10.0.0.5:6379/1"  # env')
    expect(out).not.toContain('hunter2secret')
  })
})
