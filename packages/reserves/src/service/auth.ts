import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'

/** The roles of the reserves service. */
export type Role = 'admin' | 'auditor' | 'user'
export const ROLES: readonly Role[] = ['admin', 'auditor', 'user']

/** Who is calling: `sub` is the user id for role `user`. */
export interface Principal {
  sub: string
  role: Role
  via: 'jwt' | 'api-key'
}

/** A service-to-service key: its holder acts as `name` with `role`. */
export interface ApiKey {
  name: string
  role: Role
  key: string
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

const unauthenticated = (message: string) =>
  new CairnError(ReservesErrorCode.UNAUTHENTICATED, message, {
    fault: 'caller',
    hint: 'send Authorization: Bearer <JWT> (cairn reserves token) or X-Api-Key',
  })

/** The shortest HS256 secret accepted: 256 bits, as RFC 7518 §3.2 requires and geth's jwtsecret is. */
export const MIN_HMAC_SECRET_BYTES = 32

/**
 * Refuses an HS256 secret shorter than {@link MIN_HMAC_SECRET_BYTES} (an empty one would let anyone
 * mint an admin token). Null (no HS256 tokens) passes.
 */
export function checkHmacSecret(secret: Uint8Array | null, source = 'the JWT secret'): void {
  if (secret === null || secret.length >= MIN_HMAC_SECRET_BYTES) return
  throw new CairnError(
    ReservesErrorCode.BAD_OPTIONS,
    `${source} is ${secret.length} byte(s); an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`,
    { fault: 'caller', hint: 'create one with: openssl rand -hex 32 > jwt.secret' },
  )
}

/** Mints an HS256 JWT `{sub, role, iat, exp}`. */
export function signToken(
  secret: Uint8Array,
  claims: { sub: string; role: Role; ttlSeconds: number },
  nowMs = Date.now(),
): string {
  checkHmacSecret(secret)
  const iat = Math.floor(nowMs / 1000)
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify({ sub: claims.sub, role: claims.role, iat, exp: iat + claims.ttlSeconds }))
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

/** Checks an HS256 JWT (signature, `exp`, `nbf`, a known `role`, a `sub`); throws RESERVES_UNAUTHENTICATED. */
export function verifyToken(secret: Uint8Array, token: string, nowMs = Date.now()): Principal {
  const parts = token.split('.')
  if (parts.length !== 3) throw unauthenticated('the bearer token is not a JWT')
  const [head, body, sig] = parts as [string, string, string]
  let header: { alg?: unknown }
  let claims: { sub?: unknown; role?: unknown; exp?: unknown; nbf?: unknown }
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString())
    claims = JSON.parse(Buffer.from(body, 'base64url').toString())
  } catch {
    throw unauthenticated('the bearer token is not a JWT')
  }
  if (header.alg !== 'HS256') throw unauthenticated(`JWT algorithm ${String(header.alg)} is not accepted (HS256)`)
  const want = createHmac('sha256', secret).update(`${head}.${body}`).digest()
  const got = Buffer.from(sig, 'base64url')
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw unauthenticated('the JWT signature is invalid')
  const now = nowMs / 1000
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw unauthenticated('the JWT has expired')
  if (typeof claims.nbf === 'number' && claims.nbf > now) throw unauthenticated('the JWT is not valid yet')
  if (!ROLES.includes(claims.role as Role)) throw unauthenticated('the JWT has no known role claim')
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw unauthenticated('the JWT has no sub claim')
  return { sub: claims.sub, role: claims.role as Role, via: 'jwt' }
}

/** Authenticates a request's headers; null when it carries no credentials. */
export function authenticate(
  headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined },
  opts: { jwtSecret: Uint8Array | null; apiKeys: readonly ApiKey[] },
): Principal | null {
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string') {
    const digest = createHash('sha256').update(apiKey).digest()
    for (const k of opts.apiKeys) {
      if (timingSafeEqual(digest, createHash('sha256').update(k.key).digest()))
        return { sub: k.name, role: k.role, via: 'api-key' }
    }
    throw unauthenticated('unknown API key')
  }
  const auth = headers.authorization
  if (!auth) return null
  const m = /^Bearer\s+(\S+)$/i.exec(auth)
  if (!m) throw unauthenticated('the Authorization header must be "Bearer <token>"')
  if (!opts.jwtSecret) throw unauthenticated('this service accepts no bearer tokens (no JWT secret configured)')
  return verifyToken(opts.jwtSecret, m[1] as string)
}

/** Throws RESERVES_FORBIDDEN unless the principal has one of `roles` (RESERVES_UNAUTHENTICATED when absent). */
export function requireRole(p: Principal | null, roles: readonly Role[]): Principal {
  if (!p) throw unauthenticated('this endpoint needs credentials')
  if (!roles.includes(p.role))
    throw new CairnError(ReservesErrorCode.FORBIDDEN, `role ${p.role} may not do this (needs ${roles.join(' or ')})`, {
      fault: 'caller',
    })
  return p
}
