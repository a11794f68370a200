import { Authenticator, hashApiKey, type JwksBearerOptions, jwksBearer, ServiceErrorCode } from '@cairn/service-kit'
import { isCairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { type ApiKey, type Principal, RESERVES_ROLES, type Role, TOKEN_POLICY, unauthenticated } from './auth.ts'

/** Bearer tokens signed by an OAuth2/OIDC provider, checked against its JWKS. */
export type JwksOptions = JwksBearerOptions

/** Every way a caller may prove who they are. */
export interface AuthOptions {
  /** HS256 secret (tokens from `cairn reserves token`); null: none. */
  jwtSecret: Uint8Array | null
  /** RS256/ES256 tokens from an OAuth2/OIDC provider; null: none. */
  jwks: JwksOptions | null
  apiKeys: readonly ApiKey[]
}

/** Authenticates a request's headers; null when it carries no credentials. */
export type ReservesAuthenticator = (headers: {
  authorization?: string | undefined
  'x-api-key'?: string | string[] | undefined
}) => Promise<Principal | null>

/** Verified bearer tokens remembered (by their full text, signature included) until their `exp`. */
const TOKEN_CACHE_SIZE = 10_000

/**
 * service-kit's authenticator with the reserves role table: API keys (X-Api-Key; kept as their
 * sha256, compared in constant time), HS256 bearer tokens (the shared secret; `exp` and `sub`
 * required) and RS256/ES256 bearer tokens (the JWKS, with issuer and audience), chosen by the
 * token's `alg`. A token must name one of admin, auditor, user. A verified token is recognised by
 * its exact text until it expires. Refused credentials are RESERVES_UNAUTHENTICATED (401); a JWKS
 * that cannot be fetched stays transient (503).
 */
export function createAuthenticator(
  opts: AuthOptions,
  modules: { logger: Logger; metrics: Registry | null; clockMs?: () => number },
): ReservesAuthenticator {
  const jwks = opts.jwks
  const kit = new Authenticator<Role>(RESERVES_ROLES, {
    apiKeys: opts.apiKeys.map((k) => ({ name: k.name, role: k.role, keyHash: hashApiKey(k.key) })),
    hs256: opts.jwtSecret ? { secret: opts.jwtSecret, ...TOKEN_POLICY, defaultRole: null } : null,
    jwks: jwks ? jwksBearer<Role>(jwks, { logger: modules.logger, registry: modules.metrics }) : null,
    tokenCache: TOKEN_CACHE_SIZE,
  })
  return async (headers) => {
    try {
      const c = await kit.authenticate(headers, modules.clockMs?.() ?? Date.now())
      if (!c) return null
      return { sub: c.name ?? '', role: c.role, via: c.via === 'apiKey' ? 'api-key' : 'jwt' }
    } catch (err) {
      if (isCairnError(err, ServiceErrorCode.AUTH_INVALID)) throw unauthenticated(err.message)
      throw err
    }
  }
}
