// Who may call what: the service's authenticator (HS256, JWKS, API keys), its role guard and the rate
// limits charged to the caller. A guarded route authenticates in `onRequest`, before Fastify reads or
// parses any body (an anonymous request never costs more than its headers); the rest are charged to
// the caller's IP by `chargeUnguarded`. The features take `guard` and `who`.
import { ReservesErrorCode } from '@cairn/reserves'
import type { RateLimitStore } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { type ApiKey, type Principal, type Role, requireRole } from './auth.ts'
import {
  type AuthRotation,
  createAuthenticator,
  type JwksOptions,
  type ReservesAuthenticator,
} from './authenticator.ts'
import type { ReservesMetrics } from './metrics.ts'
import {
  DEFAULT_RATE_LIMIT,
  ReservesLimiter,
  type ReservesRateLimitOptions,
  routeWeight,
  UNLIMITED_ROUTES,
} from './rate-limit.ts'
import type { TokenTimeLimits } from './token-times.ts'

/** A route's guard: its onRequest hook authenticates, checks the role and charges the rate limit. */
export interface RouteGuard {
  config: { guarded: boolean }
  onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
}

export interface AccessOptions {
  jwtSecret: Uint8Array | null
  jwks: JwksOptions | null
  apiKeys: ApiKey[]
  tokenTimes?: TokenTimeLimits
  rateLimit?: ReservesRateLimitOptions
}

export interface AccessModules {
  logger: Logger
  registry: Registry
  metrics: ReservesMetrics
  rateLimitStore?: RateLimitStore
  clockMs?: () => number
}

export interface Access {
  /** The principal behind a set of headers (service-kit's authenticator with the reserves roles). */
  authenticate: ReservesAuthenticator
  /** Route options that let only `roles` in. */
  guard(roles: Role[]): RouteGuard
  /** The principal a guarded route's request was let in as. */
  who(req: FastifyRequest): Principal
  /** The app's onRequest hook: charges a route without a guard (the page, the public anchor, the docs) to the caller's IP. */
  chargeUnguarded(req: FastifyRequest, reply: FastifyReply): Promise<void>
  /** Puts a rotated JWT secret and/or API key list in force (the CLI watches the secrets). */
  rotateAuth(next: AuthRotation): void
}

export function createAccess(opts: AccessOptions, m: AccessModules): Access {
  const { logger, metrics } = m
  const limiter = new ReservesLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT, {
    logger,
    ...(m.rateLimitStore ? { store: m.rateLimitStore } : {}),
    ...(m.clockMs ? { now: m.clockMs } : {}),
  })
  /** Charges the request to its principal (or IP); throws 429 past the limit. */
  const charge = async (req: FastifyRequest, reply: FastifyReply, principal: Principal | null) => {
    if (!limiter.opts.enabled) return
    const route = req.routeOptions.url ?? 'unmatched'
    if (UNLIMITED_ROUTES.has(route)) return
    const d = await limiter.charge(req.ip, principal, routeWeight(req.method, route))
    if (d.allowed) return
    if (d.storeDown)
      throw new CairnError(ReservesErrorCode.OVERLOADED, 'the rate-limit store is unavailable', { fault: 'transient' })
    metrics.rateLimited.inc({ caller: principal ? principal.role : 'ip' })
    reply.header('retry-after', String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))))
    throw new CairnError(ReservesErrorCode.RATE_LIMITED, 'too many requests', {
      fault: 'caller',
      hint: `slow down: retry after ${Math.max(1, Math.ceil(d.retryAfterMs / 1000))} s`,
    })
  }
  const authn = createAuthenticator(
    {
      jwtSecret: opts.jwtSecret,
      jwks: opts.jwks,
      apiKeys: opts.apiKeys,
      ...(opts.tokenTimes ? { tokenTimes: opts.tokenTimes } : {}),
    },
    { logger, metrics: m.registry, ...(m.clockMs ? { clockMs: m.clockMs } : {}) },
  )
  const need = async (req: FastifyRequest, roles: Role[]) =>
    requireRole(await authn(req.headers as Record<string, string | undefined>), roles)
  const principals = new WeakMap<FastifyRequest, Principal>()
  return {
    authenticate: authn,
    guard: (roles) => ({
      config: { guarded: true },
      onRequest: async (req, reply) => {
        const p = await need(req, roles)
        principals.set(req, p)
        await charge(req, reply, p)
      },
    }),
    who: (req) => principals.get(req) as Principal,
    chargeUnguarded: async (req, reply) => {
      if (!req.routeOptions.config || !(req.routeOptions.config as { guarded?: boolean }).guarded)
        await charge(req, reply, null)
    },
    rotateAuth: (next) => authn.rotate(next),
  }
}
