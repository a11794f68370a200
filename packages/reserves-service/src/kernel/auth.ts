import { ReservesErrorCode } from '@cairn/reserves'
import { defineRoles, checkHmacSecret as kitCheckHmacSecret, signHs256, verifyHs256 } from '@cairn/service-kit'
import { CairnError, isCairnError } from '@cairn/utils'

/** The roles of the reserves service. */
export type Role = 'admin' | 'auditor' | 'user'
export const ROLES: readonly Role[] = ['admin', 'auditor', 'user']

/** The reserves role table for service-kit's authenticator: separate duties, each route lists the roles it admits. */
export const RESERVES_ROLES = defineRoles<Role>(ROLES, { ordered: false })

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

/** What HS256 tokens of this service must carry besides a signature: `exp` and `sub` (and a role). */
export const TOKEN_POLICY = { requireExp: true, requireSub: true } as const

/**
 * Refuses an HS256 secret shorter than 32 bytes (an empty one would let anyone mint an admin
 * token) as RESERVES_BAD_OPTIONS. Null (no HS256 tokens) passes.
 */
export function checkHmacSecret(secret: Uint8Array | null, source = 'the JWT secret'): void {
  try {
    kitCheckHmacSecret(secret, source)
  } catch (err) {
    if (!isCairnError(err)) throw err
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, err.message, {
      fault: 'caller',
      ...(err.hint ? { hint: err.hint } : {}),
    })
  }
}

/** Mints an HS256 JWT `{sub, role, iat, exp}`. */
export function signToken(
  secret: Uint8Array,
  claims: { sub: string; role: Role; ttlSeconds: number },
  nowMs = Date.now(),
): string {
  checkHmacSecret(secret)
  const iat = Math.floor(nowMs / 1000)
  return signHs256({ sub: claims.sub, role: claims.role, iat, exp: iat + claims.ttlSeconds }, secret)
}

/** Checks an HS256 JWT (signature, `exp`, `nbf`, a known `role`, a `sub`); throws RESERVES_UNAUTHENTICATED. */
export function verifyToken(secret: Uint8Array, token: string, nowMs = Date.now()): Principal {
  let claims: ReturnType<typeof verifyHs256>
  try {
    claims = verifyHs256(token, secret, nowMs / 1000, TOKEN_POLICY)
  } catch (err) {
    throw unauthenticated((err as Error).message)
  }
  if (!ROLES.includes(claims.role as Role)) throw unauthenticated('the JWT has no known role claim')
  return { sub: claims.sub as string, role: claims.role as Role, via: 'jwt' }
}

/** A refused credential as this service's error (401). */
export function unauthenticated(message: string): CairnError {
  return new CairnError(ReservesErrorCode.UNAUTHENTICATED, message, {
    fault: 'caller',
    hint: 'send Authorization: Bearer <JWT> (cairn reserves token) or X-Api-Key',
  })
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
