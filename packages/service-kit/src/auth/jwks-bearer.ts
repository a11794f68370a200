import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { JwksAuth } from './authenticator.ts'
import { JwksVerifier } from './jwks.ts'

/**
 * A service's OAuth2/OIDC bearer tokens, as an operator configures them (the reserves and
 * arbitrage services' `--jwks-url`, `--jwt-issuer`, `--jwt-audience`, `--jwt-role-claim`).
 */
export interface JwksBearerOptions {
  /** The provider's JWKS URL (e.g. https://idp.example/.well-known/jwks.json). */
  url: string
  /** Required `iss`. */
  issuer: string
  /** Required `aud` (one of the token's audiences). */
  audience: string
  /** The claim holding the role (default `role`; a dotted path reaches into objects). */
  roleClaim?: string
  /** Accepted clock skew, seconds (default 30). */
  clockToleranceSeconds?: number
  /** Timeout of one JWKS fetch (default 5000 ms). */
  timeoutMs?: number
}

/**
 * The JWKS part of an {@link Authenticator}'s options with the services' one policy: `exp` and a
 * non-empty `sub` required, no default role (a token must name one), a fetch that fails opens
 * the breaker for 10 s and a refresh gives up after three timeouts.
 */
export function jwksBearer<R extends string>(
  opts: JwksBearerOptions,
  modules: { logger: Logger; registry: Registry | null },
): JwksAuth<R> {
  const timeoutMs = opts.timeoutMs ?? 5000
  return {
    verifier: new JwksVerifier(
      {
        url: opts.url,
        issuer: opts.issuer,
        audience: opts.audience,
        requiredClaims: ['exp', 'sub'],
        clockToleranceSeconds: opts.clockToleranceSeconds ?? 30,
        timeoutMs,
        halfOpenAfterMs: 10_000,
        refreshDeadlineMs: timeoutMs * 3,
      },
      modules,
    ),
    roleClaim: opts.roleClaim ?? 'role',
    defaultRole: null,
    requireSub: true,
  }
}
