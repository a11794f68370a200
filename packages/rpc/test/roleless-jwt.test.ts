// A JWT that names no role is refused, never silently `public`: an HS256 token without a `role`
// claim (unless auth.jwtRole gives such tokens one, geth's engine-API habit) and a JWKS token whose
// role claim maps to no role. The refusal reaches the caller as a 401 saying what is missing.
import { signHs256 } from '@cairn/service-kit'
import { describe, expect, it } from 'vitest'
import { AUTH_OFF, Authenticator, type AuthOptions } from '../src/auth/authenticator.ts'
import { gate } from '../src/auth/gate.ts'
import { parseBody } from '../src/body.ts'

const SECRET = new Uint8Array(32).fill(9)
const NOW = 1_800_000_000
const options = (jwtRole: AuthOptions['jwtRole']): AuthOptions => ({
  enabled: true,
  apiKeys: [],
  jwtSecret: SECRET,
  jwtRole,
  jwks: null,
})
const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${signHs256(claims, SECRET)}` })
const mine = parseBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }))
const chainId = parseBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }))

describe('a JWT without a role', () => {
  it('is refused by default: 401 naming the missing claim and the role the method needs', async () => {
    expect(AUTH_OFF.jwtRole).toBeNull()
    const principal = await new Authenticator(options(null)).authenticate(bearer({ iat: NOW, sub: 'ci' }), NOW)
    expect(principal.kind).toBe('anonymous')
    expect(principal.invalid?.message).toMatch(/JWT has no role claim/)
    const refused = await gate(mine, { principal, ip: '127.0.0.1' }, null)
    expect(refused?.status).toBe(401)
    expect(JSON.parse(refused?.body ?? '{}').error.message).toMatch(
      /^invalid credentials: JWT has no role claim \(sign it with a role: public, user, operator, admin\); evm_mine needs role admin$/,
    )
    // Public methods stay open to it, as to any caller without credentials.
    expect(await gate(chainId, { principal, ip: '127.0.0.1' }, null)).toBeUndefined()
  })

  it('gets auth.jwtRole when the operator configures one; a token with a role keeps its own', async () => {
    const withRole = new Authenticator(options('admin'))
    expect(await withRole.authenticate(bearer({ iat: NOW }), NOW)).toMatchObject({ role: 'admin', kind: 'jwt' })
    const byDefault = new Authenticator(options(null))
    expect(await byDefault.authenticate(bearer({ iat: NOW, role: 'user' }), NOW)).toMatchObject({
      role: 'user',
      kind: 'jwt',
      invalid: null,
    })
  })
})
