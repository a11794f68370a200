import { CairnError, type Logger, LruCache } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { ReservesErrorCode } from '../errors.ts'
import { type ApiKey, authenticate, type Principal } from './auth.ts'
import { createJwksVerifier, JWKS_ALGORITHMS, type JwksOptions } from './jwks.ts'

/** Every way a caller may prove who they are. */
export interface AuthOptions {
  /** HS256 secret (tokens from `cairn reserves token`); null: none. */
  jwtSecret: Uint8Array | null
  /** RS256/ES256 tokens from an OAuth2/OIDC provider; null: none. */
  jwks: JwksOptions | null
  apiKeys: readonly ApiKey[]
}

/** Authenticates a request's headers; null when it carries no credentials. */
export type Authenticator = (headers: {
  authorization?: string | undefined
  'x-api-key'?: string | string[] | undefined
}) => Promise<Principal | null>

/** Verified bearer tokens remembered (by their full text, signature included) until their `exp`. */
const TOKEN_CACHE_SIZE = 10_000

/** A JWT's header (0) or claims (1), without checking anything; null when unreadable. */
function part(token: string, i: 0 | 1): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(token.split('.')[i] ?? '', 'base64url').toString()) as unknown
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * API keys, HS256 bearer tokens (the shared secret) and RS256/ES256 bearer tokens (the JWKS),
 * chosen by the token's `alg`: an asymmetric token is never checked with the HMAC secret nor an
 * HS256 token with a JWKS key, so algorithm confusion cannot turn a public key into a secret.
 * A token is verified once and then recognised by its exact text until it expires (the
 * signature is part of the key, so no other token can match the entry).
 */
export function createAuthenticator(
  opts: AuthOptions,
  modules: { logger: Logger; metrics: Registry | null },
): Authenticator {
  const viaJwks = opts.jwks ? createJwksVerifier(opts.jwks, modules) : null
  const sync = { jwtSecret: opts.jwtSecret, apiKeys: opts.apiKeys }
  const verified = new LruCache<string, { principal: Principal; expMs: number }>(TOKEN_CACHE_SIZE)
  const remember = (token: string, principal: Principal): Principal => {
    const exp = part(token, 1)?.exp
    if (typeof exp === 'number') verified.set(token, { principal, expMs: exp * 1000 })
    return principal
  }
  return async (headers) => {
    const m = headers['x-api-key'] === undefined ? /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '') : null
    if (!m) return authenticate(headers, sync)
    const token = m[1] as string
    const hit = verified.get(token)
    if (hit && hit.expMs > Date.now()) return hit.principal
    if (hit) verified.delete(token)
    const alg = part(token, 0)?.alg
    if (typeof alg === 'string' && (JWKS_ALGORITHMS as readonly string[]).includes(alg)) {
      if (!viaJwks)
        throw new CairnError(
          ReservesErrorCode.UNAUTHENTICATED,
          `JWT algorithm ${alg} is not accepted (no JWKS configured)`,
          {
            fault: 'caller',
          },
        )
      return remember(token, await viaJwks(token))
    }
    const p = authenticate(headers, sync)
    return p ? remember(token, p) : p
  }
}
