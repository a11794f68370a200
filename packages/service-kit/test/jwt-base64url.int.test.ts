// A JWT's parts must be canonical base64url (RFC 7515: the URL alphabet, no padding, no set bits
// past the last byte). Node's decoder and jose's atob skip what they do not understand, so a valid
// token with characters appended to its signature, or its signature's last character changed in
// its unused bits, used to verify. HS256 through the secret and ES256/RS256 through a JWKS served
// on loopback.
import { createServer, type Server } from 'node:http'
import { silentLogger } from '@cairn/utils'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeBase64url } from '../src/auth/base64url.ts'
import { Authenticator, defineRoles, JwksVerifier, ServiceErrorCode, signHs256, verifyHs256 } from '../src/index.ts'

const SECRET = new Uint8Array(32).fill(3)
const NOW = 1_800_000_000
const roles = defineRoles(['public', 'admin'] as const, { ordered: true })
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Variants of a valid token that decode to the same bytes under a lenient decoder. */
function lenientTwins(token: string): string[] {
  const sig = token.slice(token.lastIndexOf('.') + 1)
  const last = BASE64URL.indexOf(sig.at(-1) as string)
  // Bits of the last character past the last whole byte: 6 - (6 × length) mod 8.
  const spare = (6 * sig.length) % 8 === 0 ? 0 : 6 - ((6 * sig.length) % 8)
  const twins = ['=', '==', '!!', '%', '~', '*', '$', '\u00e9', '=A', 'A=', '===='].map((tail) => `${token}${tail}`)
  if (spare > 0) twins.push(`${token.slice(0, -1)}${BASE64URL[last ^ 1]}`)
  return twins
}

describe('strict base64url', () => {
  it('decodes only what encoding gives back', () => {
    expect(decodeBase64url('eHh4')?.toString()).toBe('xxx')
    expect(decodeBase64url('eHg')?.toString()).toBe('xx')
    for (const bad of ['eHg=', 'eHh4=', 'eHg!', 'eHh', 'eHh4e', 'eH+4', 'eH/4', 'eHh4 '])
      expect(decodeBase64url(bad), bad).toBeUndefined()
  })
})

describe('HS256', () => {
  const token = signHs256({ iat: NOW, role: 'admin', sub: 'ops' }, SECRET)
  const auth = new Authenticator(roles, {
    apiKeys: [],
    hs256: { secret: SECRET, iatLeewaySeconds: 60, defaultRole: null },
    jwks: null,
  })

  it('the token itself verifies; every twin with trailing characters or spare bits set is refused', async () => {
    expect(verifyHs256(token, SECRET, NOW).sub).toBe('ops')
    expect((await auth.authenticate({ authorization: `Bearer ${token}` }, NOW * 1000))?.role).toBe('admin')
    const twins = lenientTwins(token)
    expect(twins.length).toBe(12)
    for (const twin of twins) {
      expect(() => verifyHs256(twin, SECRET, NOW), twin.slice(-4)).toThrow('bad JWT signature')
      // Whitespace never reaches here (the Bearer value is one token); anything else is refused.
      await expect(auth.authenticate({ authorization: `Bearer ${twin}` }, NOW * 1000)).rejects.toThrow(
        /bad JWT signature|malformed JWT/,
      )
    }
  })
})

describe('through a JWKS', () => {
  let server: Server
  let verifier: JwksVerifier
  let es256: string
  let rs256: string

  beforeAll(async () => {
    const ec = await generateKeyPair('ES256')
    const rsa = await generateKeyPair('RS256')
    const keys = [
      { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
    ]
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    verifier = new JwksVerifier({ url: `http://127.0.0.1:${port}/jwks.json` }, { logger: silentLogger, registry: null })
    const sign = (alg: string, kid: string, key: Key) =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg, kid })
        .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
        .sign(key)
    es256 = await sign('ES256', 'ec', ec.privateKey)
    rs256 = await sign('RS256', 'rsa', rsa.privateKey)
  })
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
  })

  it.each(['es256', 'rs256'] as const)('%s: the token verifies, its twins do not', async (which) => {
    const token = which === 'es256' ? es256 : rs256
    expect((await verifier.verify(token)).role).toBe('admin')
    // Refused, whichever check catches it (jose refuses a lone "=" itself; "==" and spare bits it took).
    for (const twin of lenientTwins(token)) {
      await expect(verifier.verify(twin), twin.slice(-4)).rejects.toMatchObject({ code: ServiceErrorCode.AUTH_INVALID })
    }
    await expect(verifier.verify(`${token}==`)).rejects.toThrow(
      'malformed JWT: each part must be base64url without padding',
    )
  })
})
