import { createHmac, timingSafeEqual } from 'node:crypto'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { RpcErrorCode } from '../errors.ts'
import { ROLES } from './roles.ts'

const headerSchema = z.object({ alg: z.literal('HS256'), typ: z.string().optional() })
const claimsSchema = z.object({
  iat: z.number().int(),
  exp: z.number().int().optional(),
  sub: z.string().max(128).optional(),
  role: z.enum(ROLES).optional(),
})
export type JwtClaims = z.output<typeof claimsSchema>

/** How far `iat` may be from now, in seconds (geth's authenticated port: 60). */
export const JWT_IAT_LEEWAY_SECONDS = 60

/**
 * Verifies an HS256 JWT as geth's authenticated port does: signature with the shared secret,
 * `iat` within ±60 s of now (and `exp`, when given, not passed). Throws RPC_AUTH_INVALID.
 */
export function verifyJwt(token: string, secret: Uint8Array, nowSeconds: number): JwtClaims {
  const parts = token.split('.')
  if (parts.length !== 3) throw invalid('not a JWT')
  const [h, p, s] = parts as [string, string, string]
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest()
  const given = Buffer.from(s, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('bad JWT signature')
  const header = headerSchema.safeParse(decode(h))
  if (!header.success) throw invalid('JWT alg must be HS256')
  const claims = claimsSchema.safeParse(decode(p))
  if (!claims.success) throw invalid(claimProblem(claims.error.issues[0]))
  if (Math.abs(claims.data.iat - nowSeconds) > JWT_IAT_LEEWAY_SECONDS)
    throw invalid('JWT iat is stale or in the future')
  if (claims.data.exp !== undefined && claims.data.exp < nowSeconds) throw invalid('JWT expired')
  return claims.data
}

/** Signs an HS256 JWT (tests and tools). */
export function signJwt(claims: Record<string, unknown>, secret: Uint8Array): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  return `${h}.${p}.${s}`
}

/** What is wrong with the claims, naming the claim (an unknown role is not an `iat` problem). */
function claimProblem(issue: { path: PropertyKey[]; code: string } | undefined): string {
  const claim = String(issue?.path[0] ?? '')
  if (claim === 'role') return `JWT claim role must be one of ${ROLES.join(', ')}`
  if (claim === 'iat') return 'JWT claims need an integer iat'
  if (claim === 'exp') return 'JWT claim exp must be an integer (Unix seconds)'
  if (claim === 'sub') return 'JWT claim sub must be a string of at most 128 characters'
  return 'JWT claims must be a JSON object with an integer iat'
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

function invalid(why: string): CairnError {
  return new CairnError(RpcErrorCode.AUTH_INVALID, `invalid credentials: ${why}`, {
    fault: 'caller',
    hint: 'send a fresh HS256 JWT signed with the node secret (iat within 60 s) or a valid API key',
  })
}
