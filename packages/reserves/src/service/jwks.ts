import { outboundMetrics, resilientCall } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose'
import type { Registry } from 'prom-client'
import { ReservesErrorCode } from '../errors.ts'
import { type Principal, ROLES, type Role } from './auth.ts'

/** Bearer tokens signed by an OAuth2/OIDC provider, checked against its JWKS. */
export interface JwksOptions {
  /** The provider's JWKS URL (e.g. https://idp.example/.well-known/jwks.json). */
  url: string
  /** Required `iss`. */
  issuer: string
  /** Required `aud` (one of the token's audiences). */
  audience: string
  /** The claim holding admin / auditor / user (default `role`). */
  roleClaim?: string
  /** Accepted clock skew, seconds (default 30). */
  clockToleranceSeconds?: number
  /** Timeout of one JWKS fetch (default 5000 ms). */
  timeoutMs?: number
}

/** The asymmetric algorithms accepted from a JWKS. HS256 stays with the shared secret. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const

const unauthenticated = (message: string) =>
  new CairnError(ReservesErrorCode.UNAUTHENTICATED, message, {
    fault: 'caller',
    hint: "send a token from the configured identity provider, with the service's issuer, audience and a role claim",
  })

/** Maps jose's failures to messages a caller can act on; a JWKS outage stays transient (503). */
function refusal(err: unknown): CairnError {
  if (err instanceof CairnError) return err
  if (err instanceof errors.JWTExpired) return unauthenticated('the JWT has expired')
  if (err instanceof errors.JWTClaimValidationFailed)
    return unauthenticated(`the JWT's ${err.claim} claim is not accepted (${err.reason})`)
  if (err instanceof errors.JWKSNoMatchingKey)
    return unauthenticated("no key in the provider's JWKS matches the token (unknown kid or algorithm)")
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return unauthenticated('the token names no kid and the JWKS has several keys')
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('the JWT signature is invalid')
  if (err instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated('the JWT algorithm is not accepted (RS256, ES256)')
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return new CairnError('OUTBOUND_FAILED', `the identity provider's JWKS is unusable: ${err.message}`, {
      fault: 'transient',
      cause: err,
    })
  if (err instanceof errors.JOSEError) return unauthenticated(`the JWT is not valid: ${err.message}`)
  return new CairnError('OUTBOUND_FAILED', `checking the JWT failed: ${(err as Error).message}`, {
    fault: 'transient',
    cause: err,
  })
}

/**
 * A verifier for RS256/ES256 bearer tokens against a remote JWKS (jose's createRemoteJWKSet:
 * keys cached, refetched on an unknown kid at most every 30 s). Each fetch goes through
 * service-kit's resilience (timeout, retry, breaker; `cairn_outbound_calls_total{target="jwks"}`).
 */
export function createJwksVerifier(
  opts: JwksOptions,
  modules: { logger: Logger; metrics: Registry | null },
): (token: string) => Promise<Principal> {
  const timeoutMs = opts.timeoutMs ?? 5000
  const call = resilientCall(
    {
      name: 'jwks',
      timeoutMs,
      retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 500 },
      breaker: { threshold: 5, halfOpenAfterMs: 10_000 },
    },
    { logger: modules.logger, metrics: modules.metrics ? outboundMetrics(modules.metrics) : null },
  )
  const jwks = createRemoteJWKSet(new URL(opts.url), {
    timeoutDuration: timeoutMs * 3,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    [customFetch]: (url, init) =>
      call.execute(async (signal) => {
        const res = await fetch(url, { ...init, signal: AbortSignal.any([signal, init.signal]) })
        // read inside the attempt: the policy aborts its signal when the attempt ends
        const body = await res.arrayBuffer()
        return new Response(body, { status: res.status, headers: res.headers })
      }),
  })
  const roleClaim = opts.roleClaim ?? 'role'
  return async (token) => {
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: [...JWKS_ALGORITHMS],
        clockTolerance: opts.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'sub'],
      }))
    } catch (err) {
      throw refusal(err)
    }
    const role = payload[roleClaim]
    if (!ROLES.includes(role as Role))
      throw unauthenticated(`the JWT has no known ${roleClaim} claim (admin, auditor, user)`)
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthenticated('the JWT has no sub claim')
    return { sub: payload.sub, role: role as Role, via: 'jwt' }
  }
}
