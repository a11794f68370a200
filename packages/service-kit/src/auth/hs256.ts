import { createHmac, timingSafeEqual } from 'node:crypto'
import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import { decodeBase64url } from './base64url.ts'
import { authInvalid } from './refusal.ts'

/** The shortest HS256 secret accepted: 256 bits, as RFC 7518 §3.2 requires and geth's jwtsecret is. */
export const MIN_HMAC_SECRET_BYTES = 32

/** How the claims of an HS256 JWT are checked beyond its signature. */
export interface Hs256Policy {
  /** geth's authenticated port: `iat` required, within ± this many seconds of now. Absent: `iat` is not checked. */
  iatLeewaySeconds?: number
  /** Tokens must carry `exp` (else an unexpiring token would be accepted for ever). */
  requireExp?: boolean
  /** Tokens must carry a non-empty `sub`. */
  requireSub?: boolean
}

/** Claims of a verified token (every standard claim checked; the rest untouched). */
export type JwtPayload = Record<string, unknown> & { sub?: string; exp?: number; iat?: number }

/**
 * Refuses an HS256 secret shorter than {@link MIN_HMAC_SECRET_BYTES} (an empty one would let anyone
 * mint an admin token). Null (no HS256 tokens) passes.
 */
export function checkHmacSecret(secret: Uint8Array | null, source = 'the JWT secret'): void {
  if (secret === null || secret.length >= MIN_HMAC_SECRET_BYTES) return
  throw new CairnError(
    ServiceErrorCode.AUTH_SECRET_INVALID,
    `${source} is ${secret.length} byte(s); an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`,
    { fault: 'caller', hint: 'create one with: openssl rand -hex 32 > jwt.secret' },
  )
}

/** Signs an HS256 JWT with `claims` as they are (tools and tests). */
export function signHs256(claims: Record<string, unknown>, secret: Uint8Array): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  return `${h}.${p}.${s}`
}

/**
 * Verifies an HS256 JWT: the signature with the shared secret (constant-time), `alg` HS256, then
 * the standard claims — `exp` (an integer, not passed), `nbf` (not in the future), `sub` (a string
 * of at most 128 characters) and, per `policy`, `iat` within a leeway of now. Throws
 * SERVICE_AUTH_INVALID saying which check failed. `role` and other claims are the caller's to read.
 * Every part must be canonical unpadded base64url (./base64url.ts).
 */
export function verifyHs256(
  token: string,
  secret: Uint8Array,
  nowSeconds: number,
  policy: Hs256Policy = {},
): JwtPayload {
  const parts = token.split('.')
  if (parts.length !== 3) throw authInvalid('not a JWT')
  const [h, p, s] = parts as [string, string, string]
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest()
  // Strict: a signature with characters appended (or other unused bits set) is not this one.
  const given = decodeBase64url(s)
  if (given === undefined || given.length !== expected.length || !timingSafeEqual(given, expected))
    throw authInvalid('bad JWT signature')
  const header = decode(h)
  if (header?.alg !== 'HS256') throw authInvalid('JWT alg must be HS256')
  const claims = decode(p)
  if (!claims) throw authInvalid('JWT claims must be a JSON object')
  if (policy.iatLeewaySeconds !== undefined) {
    if (!Number.isInteger(claims.iat)) throw authInvalid('JWT claims need an integer iat')
    if (Math.abs((claims.iat as number) - nowSeconds) > policy.iatLeewaySeconds)
      throw authInvalid('JWT iat is stale or in the future')
  }
  if (claims.exp !== undefined && !Number.isInteger(claims.exp))
    throw authInvalid('JWT claim exp must be an integer (Unix seconds)')
  if (claims.exp === undefined && policy.requireExp) throw authInvalid('JWT has no exp claim')
  if (typeof claims.exp === 'number' && claims.exp <= nowSeconds) throw authInvalid('JWT expired')
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) throw authInvalid('JWT is not valid yet (nbf)')
  if (claims.sub !== undefined && (typeof claims.sub !== 'string' || claims.sub.length > 128))
    throw authInvalid('JWT claim sub must be a string of at most 128 characters')
  if (policy.requireSub && (typeof claims.sub !== 'string' || claims.sub.length === 0))
    throw authInvalid('JWT has no sub claim')
  return claims as JwtPayload
}

/** A JWT's header, without checking anything; undefined when it does not decode. */
export function jwtHeader(token: string): Record<string, unknown> | undefined {
  return decode(token.split('.')[0] ?? '')
}

function decode(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(part)
  if (bytes === undefined) return undefined
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
