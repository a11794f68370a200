// The arbitrage service's roles, ordered: a viewer reads, an operator also changes limits and the
// kill switch, an admin also reads the audit log. service-kit's authenticator resolves API keys,
// HS256 JWTs (`sub`, `role`, `exp` required) and RS256/ES256 JWTs of an OAuth2/OIDC provider
// (checked against its JWKS, with issuer and audience; the role in a configurable claim) to one of them.
import {
  Authenticator,
  type CredentialHeaders,
  defineRoles,
  hashApiKey,
  type JwksBearerOptions,
  jwksBearer,
  roleAllows,
  ServiceErrorCode,
  signHs256,
} from '@cairn/service-kit'
import { CairnError, isCairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
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

/** Bearer tokens signed by an OAuth2/OIDC provider (RS256 or ES256), checked against its JWKS. */
export type JwksOptions = JwksBearerOptions

export interface AuthOptions {
  /** HS256 secret (≥ 32 bytes); null: no HS256 JWTs. */
  jwtSecret: Uint8Array | null
  /** RS256/ES256 JWTs of an OAuth2/OIDC provider; absent or null: none. */
  jwks?: JwksOptions | null
  apiKeys: readonly ApiKey[]
}

export interface AuthModules {
  logger: Logger
  /** Where the JWKS fetches are counted (`cairn_outbound_calls_total{target="jwks"}`); null: nowhere. */
  registry: Registry | null
  /** Milliseconds since the epoch (tests move it to expire tokens). */
  clockMs?: () => number
}

const unauthenticated = (message: string) =>
  new CairnError(ArbErrorCode.UNAUTHENTICATED, message, {
    fault: 'caller',
    hint: 'send Authorization: Bearer <JWT> (cairn arb token) or X-Api-Key',
  })

/**
 * Resolves a request's credentials to a principal: API keys (X-Api-Key, kept as sha256, compared
 * in constant time), HS256 tokens (the shared secret) and RS256/ES256 tokens (the JWKS; `exp` and
 * `sub` required, `iss` and `aud` checked), chosen by the token's `alg`. A token must name one of
 * viewer, operator, admin. Refused credentials are ARB_UNAUTHENTICATED (401); a JWKS that cannot be
 * fetched stays transient (503). Null when the request carries no credentials.
 */
export interface ArbAuthenticator {
  authenticate(headers: CredentialHeaders): Promise<Principal | null>
  /**
   * Puts a rotated HS256 secret and/or API key list in force without a restart (a watched secret
   * changed): tokens signed with the old secret and the old keys are refused from then on.
   */
  rotate(next: { jwtSecret?: Uint8Array; apiKeys?: readonly ApiKey[] }): void
}

export function createAuthenticator(opts: AuthOptions, modules: AuthModules): ArbAuthenticator {
  const jwks = opts.jwks ?? null
  const kit = new Authenticator<Role>(ARB_ROLES, {
    apiKeys: opts.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })),
    hs256: opts.jwtSecret ? { secret: opts.jwtSecret, requireExp: true, requireSub: true, defaultRole: null } : null,
    jwks: jwks ? jwksBearer<Role>(jwks, { logger: modules.logger, registry: modules.registry }) : null,
    tokenCache: 10_000,
  })
  return {
    authenticate: async (headers) => {
      try {
        const c = await kit.authenticate(headers, modules.clockMs?.() ?? Date.now())
        return c ? { sub: c.name ?? '', role: c.role } : null
      } catch (err) {
        if (isCairnError(err, ServiceErrorCode.AUTH_INVALID)) throw unauthenticated(err.message)
        throw err
      }
    },
    rotate: (next) =>
      kit.rotate({
        ...(next.jwtSecret ? { hs256Secret: next.jwtSecret } : {}),
        ...(next.apiKeys
          ? { apiKeys: next.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })) }
          : {}),
      }),
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
