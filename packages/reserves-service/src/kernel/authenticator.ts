import { Authenticator, hashApiKey, type JwksBearerOptions, jwksBearer, ServiceErrorCode } from '@cairn/service-kit'
import { isCairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { type ApiKey, type Principal, RESERVES_ROLES, type Role, TOKEN_POLICY, unauthenticated } from './auth.ts'
import { checkTokenTimes, DEFAULT_TOKEN_TIME_LIMITS, type TokenTimeLimits } from './token-times.ts'

/** Bearer tokens signed by an OAuth2/OIDC provider, checked against its JWKS. */
export type JwksOptions = JwksBearerOptions

/** Every way a caller may prove who they are. */
export interface AuthOptions {
  /** HS256 secret (tokens from `cairn reserves token`); null: none. */
  jwtSecret: Uint8Array | null
  /** RS256/ES256 tokens from an OAuth2/OIDC provider; null: none. */
  jwks: JwksOptions | null
  apiKeys: readonly ApiKey[]
  /** Bounds on a bearer token's lifetime and on `iat`/`nbf` ahead of this clock (default: a day, 60 s). */
  tokenTimes?: TokenTimeLimits
}

/** Authenticates a request's headers; null when it carries no credentials. */
export type ReservesAuthenticator = (headers: {
  authorization?: string | undefined
  'x-api-key'?: string | string[] | undefined
}) => Promise<Principal | null>

/** A rotated HS256 secret and/or API key list (a watched secret changed). */
export interface AuthRotation {
  jwtSecret?: Uint8Array
  apiKeys?: readonly ApiKey[]
}

/** The authenticator, and how a rotated secret is put in force without a restart. */
export type RotatableAuthenticator = ReservesAuthenticator & {
  /**
   * From the next request on, only the new secret and keys pass; tokens remembered under the old
   * secret are forgotten. HS256 must have been configured at start for a new secret to apply.
   */
  rotate(next: AuthRotation): void
}

/** Verified bearer tokens remembered (by their full text, signature included) until their `exp`. */
const TOKEN_CACHE_SIZE = 10_000

/**
 * service-kit's authenticator with the reserves role table: API keys (X-Api-Key; kept as their
 * sha256, compared in constant time), HS256 bearer tokens (the shared secret; `exp` and `sub`
 * required) and RS256/ES256 bearer tokens (the JWKS, with issuer and audience), chosen by the
 * token's `alg`. A token must name one of admin, auditor, user. A verified token is recognised by
 * its exact text until it expires. Every bearer token, of either kind, must also keep within the
 * time limits (token-times.ts: lifetime, `iat`/`nbf` not ahead of the clock skew). Refused
 * credentials are RESERVES_UNAUTHENTICATED (401); a JWKS that cannot be fetched stays transient
 * (503).
 */
export function createAuthenticator(
  opts: AuthOptions,
  modules: { logger: Logger; metrics: Registry | null; clockMs?: () => number },
): RotatableAuthenticator {
  const jwks = opts.jwks
  const kit = new Authenticator<Role>(RESERVES_ROLES, {
    apiKeys: opts.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })),
    hs256: opts.jwtSecret ? { secret: opts.jwtSecret, ...TOKEN_POLICY, defaultRole: null } : null,
    jwks: jwks ? jwksBearer<Role>(jwks, { logger: modules.logger, registry: modules.metrics }) : null,
    tokenCache: TOKEN_CACHE_SIZE,
  })
  const limits = opts.tokenTimes ?? DEFAULT_TOKEN_TIME_LIMITS
  const authenticate: ReservesAuthenticator = async (headers) => {
    try {
      const nowMs = modules.clockMs?.() ?? Date.now()
      const c = await kit.authenticate(headers, nowMs)
      if (!c) return null
      if (c.via === 'jwt') checkTokenTimes(bearerOf(headers.authorization), nowMs, limits)
      return { sub: c.name ?? '', role: c.role, via: c.via === 'apiKey' ? 'api-key' : 'jwt' }
    } catch (err) {
      if (isCairnError(err, ServiceErrorCode.AUTH_INVALID)) throw unauthenticated(err.message)
      throw err
    }
  }
  return Object.assign(authenticate, {
    rotate: (next: AuthRotation) =>
      kit.rotate({
        ...(next.jwtSecret ? { hs256Secret: next.jwtSecret } : {}),
        ...(next.apiKeys
          ? { apiKeys: next.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })) }
          : {}),
      }),
  })
}

/** The token of an `Authorization: Bearer` header (one the authenticator accepted as a JWT). */
function bearerOf(authorization: string | undefined): string {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? ''
}
