// The arbitrage service's roles, ordered: a viewer reads, an operator also changes limits and the
// kill switch, an admin also reads the audit log. service-kit's authenticator resolves API keys
// and HS256 JWTs (`sub`, `role`, `exp` required) to one of them.
import {
  Authenticator,
  type CredentialHeaders,
  defineRoles,
  hashApiKey,
  roleAllows,
  ServiceErrorCode,
  signHs256,
} from '@cairn/service-kit'
import { CairnError, isCairnError } from '@cairn/utils'
import { ArbErrorCode } from '../errors.ts'

export type Role = 'viewer' | 'operator' | 'admin'
export const ARB_ROLES = defineRoles<Role>(['viewer', 'operator', 'admin'], { ordered: true })

export interface Principal {
  sub: string
  role: Role
}

export interface ApiKey {
  name: string
  role: Role
  key: string
}

export interface AuthOptions {
  /** HS256 secret (≥ 32 bytes); null: no JWTs. */
  jwtSecret: Uint8Array | null
  apiKeys: readonly ApiKey[]
}

const unauthenticated = (message: string) =>
  new CairnError(ArbErrorCode.UNAUTHENTICATED, message, {
    fault: 'caller',
    hint: 'send Authorization: Bearer <JWT> (cairn arb token) or X-Api-Key',
  })

export function createAuthenticator(opts: AuthOptions): (h: CredentialHeaders) => Promise<Principal | null> {
  const kit = new Authenticator<Role>(ARB_ROLES, {
    apiKeys: opts.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })),
    hs256: opts.jwtSecret ? { secret: opts.jwtSecret, requireExp: true, requireSub: true, defaultRole: null } : null,
    jwks: null,
    tokenCache: 10_000,
  })
  return async (headers) => {
    try {
      const c = await kit.authenticate(headers)
      return c ? { sub: c.name ?? '', role: c.role } : null
    } catch (err) {
      if (isCairnError(err, ServiceErrorCode.AUTH_INVALID)) throw unauthenticated(err.message)
      throw err
    }
  }
}

/** Throws 401 without credentials, 403 when the role is below `need`. */
export function requireRole(p: Principal | null, need: Role): Principal {
  if (!p) throw unauthenticated('this endpoint needs credentials')
  if (!roleAllows(ARB_ROLES, p.role, need))
    throw new CairnError(ArbErrorCode.FORBIDDEN, `role ${p.role} may not do this (needs ${need} or above)`, {
      fault: 'caller',
    })
  return p
}

/** Mints an HS256 JWT `{sub, role, iat, exp}` for the service. */
export function signToken(
  secret: Uint8Array,
  claims: { sub: string; role: Role; ttlSeconds: number },
  nowMs = Date.now(),
): string {
  const iat = Math.floor(nowMs / 1000)
  return signHs256({ sub: claims.sub, role: claims.role, iat, exp: iat + claims.ttlSeconds }, secret)
}
