import { CairnError, type Logger } from '@cairn/utils'
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from 'jose'
import type { Registry } from 'prom-client'
import { ServiceErrorCode } from '../errors.ts'
import { outboundMetrics, resilientCall } from '../resilience.ts'
import { isCompactJws } from './base64url.ts'
import { authInvalid } from './refusal.ts'

/** An external OAuth2/OIDC provider whose RS256/ES256 JWTs a service accepts. */
export interface JwksOptions {
  /** The provider's JWKS (e.g. `https://idp.example.com/.well-known/jwks.json`). */
  url: string
  /** Required `iss`, if set. */
  issuer?: string | undefined
  /** Required `aud` (one of the token's audiences), if set. */
  audience?: string | undefined
  /** Claims a token must carry (default `exp`). */
  requiredClaims?: readonly string[]
  /** Leeway on `exp`/`nbf`/`iat`, seconds (default 30). */
  clockToleranceSeconds?: number
  /** Timeout of one fetch attempt, ms (default 3000). */
  timeoutMs?: number
  /** How long the breaker stays open after 5 failed fetches, ms (default 30 000). */
  halfOpenAfterMs?: number
  /** jose's bound on a whole key-set refresh, retries included, ms (default 5000). */
  refreshDeadlineMs?: number
}

/** The algorithms accepted from a JWKS (never `none`, never HS* with a public key). */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const

/**
 * Verifies JWTs against a remote JWKS with jose's `createRemoteJWKSet` (keys cached 10 min, an
 * unknown `kid` refetches at most every 30 s). Fetches go through a resilient caller (timeout, one
 * retry, a breaker after 5 failures) counted in `cairn_outbound_calls_total{target="jwks"}`.
 * `verify` returns the payload or throws SERVICE_AUTH_INVALID saying why the token is refused, or
 * a transient OUTBOUND_FAILED ("the JWKS cannot be fetched now") while the provider is unreachable:
 * each service decides whether that is a 401 or a 503.
 */
export class JwksVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>

  constructor(
    readonly opts: JwksOptions,
    modules: { logger: Logger; registry: Registry | null },
  ) {
    const timeoutMs = opts.timeoutMs ?? 3000
    const call = resilientCall(
      {
        name: 'jwks',
        timeoutMs,
        retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 500 },
        breaker: { threshold: 5, halfOpenAfterMs: opts.halfOpenAfterMs ?? 30_000 },
      },
      { logger: modules.logger, metrics: modules.registry ? outboundMetrics(modules.registry) : null },
    )
    this.keys = createRemoteJWKSet(new URL(opts.url), {
      timeoutDuration: opts.refreshDeadlineMs ?? 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
      // The body is read inside the call: its signal is aborted once the call settles.
      [customFetch]: (url, init) =>
        call.execute(async (signal) => {
          const res = await fetch(url, { ...init, signal: AbortSignal.any([signal, init.signal]) })
          return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers })
        }),
    })
  }

  /** The token's verified payload; throws as the class says. */
  async verify(token: string): Promise<JWTPayload> {
    // jose decodes with the forgiving atob (padding, unused bits): only canonical parts reach it.
    if (!isCompactJws(token)) throw authInvalid('malformed JWT: each part must be base64url without padding')
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: [...JWKS_ALGORITHMS],
        requiredClaims: [...(this.opts.requiredClaims ?? ['exp'])],
        clockTolerance: this.opts.clockToleranceSeconds ?? 30,
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
      })
      return payload
    } catch (err) {
      throw refusal(err)
    }
  }
}

function refusal(err: unknown): CairnError {
  if (err instanceof errors.JWTExpired) return authInvalid('JWT expired')
  if (err instanceof errors.JWKSNoMatchingKey) return authInvalid('no key of the JWKS matches the JWT (unknown kid)')
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return authInvalid('the JWT names no kid and the JWKS has several keys')
  if (err instanceof errors.JWSSignatureVerificationFailed) return authInvalid('bad JWT signature')
  if (err instanceof errors.JOSEAlgNotAllowed)
    return authInvalid(`JWT alg must be one of ${JWKS_ALGORITHMS.join(', ')}`)
  if (err instanceof errors.JWTClaimValidationFailed) return authInvalid(`JWT claim "${err.claim}" ${err.reason}`)
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof CairnError)
    return new CairnError(ServiceErrorCode.OUTBOUND_FAILED, 'the JWKS cannot be fetched now', {
      fault: 'transient',
      cause: err,
      hint: 'the identity provider is unreachable or answers garbage; retry shortly',
    })
  if (err instanceof errors.JOSEError) return authInvalid(`JWT refused (${err.code}: ${err.message})`)
  return new CairnError(ServiceErrorCode.OUTBOUND_FAILED, `checking the JWT failed: ${(err as Error).message}`, {
    fault: 'transient',
    cause: err,
  })
}
