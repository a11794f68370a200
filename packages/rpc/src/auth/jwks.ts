import { outboundMetrics, resilientCall } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from 'jose'
import type { Registry } from 'prom-client'
import { RpcErrorCode } from '../errors.ts'
import { ROLES, type Role, roleAllows } from './roles.ts'

/** An external OAuth2/OIDC provider whose RS256/ES256 JWTs the RPC accepts. */
export interface JwksOptions {
  /** The provider's JWKS (e.g. `https://idp.example.com/.well-known/jwks.json`). */
  url: string
  /** Required `iss`, if set. */
  issuer?: string | undefined
  /** Required `aud`, if set. */
  audience?: string | undefined
  /** Claim holding the role(s): a dotted path (`realm_access.roles`), a string or an array of strings. */
  roleClaim: string
  /** Claim value → role; a value that is a role name maps to itself; anything else is ignored. */
  roleMap: Readonly<Record<string, Role>>
}

/** The algorithms accepted from the JWKS (never `none`, never HS* with a public key). */
export const JWKS_ALGORITHMS = ['RS256', 'ES256']

/** Leeway on `exp`/`nbf`/`iat` of JWKS tokens, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 30

/**
 * Verifies JWTs against a remote JWKS with jose's `createRemoteJWKSet` (keys cached 10 min, an
 * unknown `kid` refetches at most every 30 s). Fetches go through a resilient caller (3 s timeout,
 * one retry, a breaker after 5 failures) counted in `cairn_outbound_calls_total{target="jwks"}`.
 * Tokens must carry `exp`; `iss`/`aud` are checked when configured. The role is the highest one
 * that the role claim maps to; a token mapping to none is `public`.
 */
export class JwksVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>

  constructor(
    readonly opts: JwksOptions,
    modules: { logger: Logger; registry: Registry | null },
  ) {
    const call = resilientCall(
      {
        name: 'jwks',
        timeoutMs: 3000,
        retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 500 },
        breaker: { threshold: 5, halfOpenAfterMs: 30_000 },
      },
      { logger: modules.logger, metrics: modules.registry ? outboundMetrics(modules.registry) : null },
    )
    this.keys = createRemoteJWKSet(new URL(opts.url), {
      timeoutDuration: 5000,
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

  /** The token's subject and role; throws RPC_AUTH_INVALID saying why it is refused. */
  async verify(token: string): Promise<{ sub: string | null; role: Role; exp?: number }> {
    let payload: JWTPayload
    try {
      const verified = await jwtVerify(token, this.keys, {
        algorithms: JWKS_ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
      })
      payload = verified.payload
    } catch (err) {
      throw invalid(reason(err))
    }
    const sub = typeof payload.sub === 'string' ? payload.sub.slice(0, 128) : null
    return { sub, role: this.roleOf(payload), ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}) }
  }

  private roleOf(payload: JWTPayload): Role {
    let value: unknown = payload
    for (const part of this.opts.roleClaim.split('.')) {
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined
    }
    const names = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
    let role: Role = 'public'
    for (const name of names) {
      const mapped =
        this.opts.roleMap[name] ?? ((ROLES as readonly string[]).includes(name) ? (name as Role) : undefined)
      if (mapped && roleAllows(mapped, role)) role = mapped
    }
    return role
  }
}

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'JWT expired'
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS matches the JWT (unknown kid)'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad JWT signature'
  if (err instanceof errors.JOSEAlgNotAllowed) return `JWT alg must be one of ${JWKS_ALGORITHMS.join(', ')}`
  if (err instanceof errors.JWTClaimValidationFailed) return `JWT claim "${err.claim}" ${err.reason}`
  if (err instanceof errors.JWKSTimeout || err instanceof CairnError) return 'the JWKS cannot be fetched now'
  if (err instanceof errors.JOSEError) return `JWT refused (${err.code}: ${err.message})`
  return 'JWT refused'
}

function invalid(why: string): CairnError {
  return new CairnError(RpcErrorCode.AUTH_INVALID, `invalid credentials: ${why}`, {
    fault: 'caller',
    hint: 'send a valid, unexpired JWT from the configured identity provider (auth.jwksUrl) or an API key',
  })
}
