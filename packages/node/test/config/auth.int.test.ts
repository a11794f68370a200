import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Authenticator } from '@cairn/rpc'
import { signHs256 } from '@cairn/service-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, loadConfigWithSources } from '../../src/config/load.ts'
import { printConfig } from '../../src/config/print.ts'
import { rpcSecurity } from '../../src/config/rpc-settings.ts'

const HASH = 'a'.repeat(64)
const SECRET = 'b1'.repeat(32)
const dir = mkdtempSync(join(tmpdir(), 'cairn-auth-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('auth and rateLimit config', () => {
  it('is off by default', () => {
    const c = loadConfig({ flags: {}, env: {} })
    // No jwtRole: a JWT without a role claim is refused unless one is configured.
    expect(c.auth).toEqual({ enabled: false, apiKeys: [], jwtRoleClaim: 'role', jwtRoleMap: {} })
    expect(c.rateLimit.enabled).toBe(false)
  })

  it('reads the JWT secret from CAIRN_AUTH_JWT_SECRET_FILE and never prints it', () => {
    const file = join(dir, 'jwt.hex')
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 })
    const loaded = loadConfigWithSources({ flags: {}, env: { CAIRN_AUTH_JWT_SECRET_FILE: file } })
    expect(loaded.config.auth.jwtSecret).toBe(SECRET)
    const printed = printConfig(loaded)
    expect(printed).toContain('auth.jwtSecret = "[redacted]"  # env')
    expect(printed).not.toContain(SECRET)
  })

  it('reads rateLimit and API keys (JSON) from the environment', () => {
    const c = loadConfig({
      flags: {},
      env: {
        CAIRN_RATE_LIMIT_ENABLED: 'true',
        CAIRN_RATE_LIMIT_PER_IP: '7',
        CAIRN_AUTH_API_KEYS: JSON.stringify([{ name: 'a', keyHash: HASH, role: 'user' }]),
      },
    })
    expect(c.rateLimit).toMatchObject({ enabled: true, perIp: 7 })
    expect(c.auth.apiKeys).toEqual([{ name: 'a', keyHash: HASH, role: 'user' }])
  })

  it('refuses a raw key where a hash belongs, and a bad role, naming the key', () => {
    expect(() =>
      loadConfig({ flags: { 'auth.apiKeys': [{ name: 'a', keyHash: 'my-key', role: 'user' }] }, env: {} }),
    ).toThrow(/auth\.apiKeys.*sha256 hex digest/)
    expect(() =>
      loadConfig({ flags: { 'auth.apiKeys': [{ name: 'a', keyHash: HASH, role: 'root' }] }, env: {} }),
    ).toThrow(/auth\.apiKeys/)
  })

  it('prod accepts a non-loopback RPC only with auth', () => {
    expect(() => loadConfig({ flags: { 'http.addr': '0.0.0.0' }, env: {} })).toThrow(/http\.addr 0\.0\.0\.0/)
    const keyed = { 'http.addr': '0.0.0.0', 'auth.apiKeys': [{ name: 'a', keyHash: HASH, role: 'admin' }] }
    expect(loadConfig({ flags: keyed, env: {} }).http.addr).toBe('0.0.0.0')
    expect(loadConfig({ flags: { 'http.addr': '0.0.0.0', 'auth.jwtSecret': SECRET }, env: {} }).http.addr).toBe(
      '0.0.0.0',
    )
  })

  it('refuses a JWT without a role claim unless auth.jwtRole gives such tokens one', async () => {
    const now = Math.floor(Date.now() / 1000)
    const roleless = { authorization: `Bearer ${signHs256({ iat: now }, Buffer.from(SECRET, 'hex'))}` }
    const byDefault = rpcSecurity(loadConfig({ flags: { 'auth.jwtSecret': SECRET }, env: {} }))
    const refused = await new Authenticator(byDefault.auth).authenticate(roleless, now)
    expect(refused).toMatchObject({ role: 'public', kind: 'anonymous' })
    expect(refused.invalid?.message).toMatch(/JWT has no role claim/)
    const configured = rpcSecurity(
      loadConfig({ flags: { 'auth.jwtSecret': SECRET }, env: { CAIRN_AUTH_JWT_ROLE: 'operator' } }),
    )
    expect(await new Authenticator(configured.auth).authenticate(roleless, now)).toMatchObject({
      role: 'operator',
      kind: 'jwt',
      invalid: null,
    })
  })
})
