// The arbitrage service's HTTP API on Fastify behind service-kit's edge: reads for viewers, live
// risk configuration and the kill switch for operators, the audit log for admins; OpenAPI at
// /docs, Prometheus at /metrics, /health and /ready.
import {
  type CredentialHeaders,
  Edge,
  guardFastifyWebSockets,
  type HealthChecks,
  type LagSource,
  type RateLimitStore,
  requestId,
} from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { ArbErrorCode } from '../errors.ts'
import type { RiskGuard } from '../risk/guard.ts'
import type { ConfigStore } from '../store/config-store.ts'
import type { ArbStore } from '../store/store.ts'
import {
  type ArbAuthenticator,
  type AuthOptions,
  createAuthenticator,
  type Principal,
  type Role,
  requireRole,
} from './auth.ts'
import { edgeError, httpError } from './errors-http.ts'
import type { EventHub } from './events.ts'
import { openApiDocument } from './openapi.ts'
import {
  ApiLimiter,
  type ApiRateLimitOptions,
  DEFAULT_API_RATE_LIMIT,
  retryAfterSeconds,
  UNLIMITED_ROUTES,
} from './rate-limit.ts'

export interface ArbApiOptions {
  auth: AuthOptions
  /** service-kit's edge: Host names answered (`*`: any), CORS origins, per-IP cap (0: none), shedding (0: never). */
  edge: { vhosts: readonly string[]; cors: readonly string[]; maxConnectionsPerIp: number; shedLagMs: number }
  /** Requests per principal / per IP (default {@link DEFAULT_API_RATE_LIMIT}: on, in memory). */
  rateLimit?: ApiRateLimitOptions
}

export interface ArbApiModules {
  store: ArbStore
  config: ConfigStore
  guard: RiskGuard
  registry: Registry
  health: HealthChecks
  logger: Logger
  /** What /v1/status shows of the running pipeline. */
  status: () => Record<string, unknown>
  /** Events for GET /v1/stream (WebSocket); absent: no stream. */
  events?: EventHub
  /** Closes the engine's breaker (after consecutive reverts); absent: the route answers 404. */
  resetBreaker?: () => void
  lag?: LagSource
  /** Where rate-limit windows live (default: memory; a RedisRateLimitStore shares them). */
  rateLimitStore?: RateLimitStore
  /** Milliseconds since the epoch, for token expiry and rate-limit windows (tests inject one). */
  clockMs?: () => number
  /** The credentials check (default: made from `opts.auth`); the service keeps it to rotate secrets. */
  authenticator?: ArbAuthenticator
}

export const DEFAULT_EDGE: ArbApiOptions['edge'] = { vhosts: ['*'], cors: [], maxConnectionsPerIp: 0, shedLagMs: 0 }

const Since = z.string().datetime({ offset: true }).optional()
const Limit = z.coerce.number().int().min(1).max(1000).default(100)
const ListQuery = z.object({
  since: Since,
  limit: Limit,
  decision: z.string().max(32).optional(),
  offset: z.coerce.number().int().min(0).default(0),
})
const PnlQuery = z.object({ since: Since, bucket: z.enum(['hour', 'day']).default('hour') })
const AuditQuery = z.object({ after: z.coerce.number().int().min(0).default(0), limit: Limit })
const ConfigBody = z.object({ value: z.unknown(), expectedVersion: z.number().int().min(0).optional() })
const KillBody = z.object({ engaged: z.boolean(), reason: z.string().max(500).optional() })

function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v)
  if (!r.success)
    throw new CairnError(ArbErrorCode.BAD_REQUEST, `bad request: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`, {
      fault: 'caller',
    })
  return r.data
}

/** JSON with bigints as decimal strings. */
const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))

export function createArbApi(opts: ArbApiOptions, modules: ArbApiModules): FastifyInstance {
  const { store, config, guard, registry, health, logger } = modules
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    genReqId: (req) => requestId(req.headers['x-request-id']),
  })
  const edge = new Edge(
    { ...opts.edge, tls: false, corsMethods: ['GET', 'POST', 'PUT', 'OPTIONS'] },
    {
      refuse: (refused, req, reply) => {
        const { status, body } = httpError(edgeError(refused))
        logger.info({ reason: refused.kind, ip: req.ip, url: req.url }, `request refused: ${refused.message}`)
        return reply.code(status).send(body)
      },
      ...(modules.lag ? { lag: modules.lag } : {}),
    },
  )
  edge.register(app).catch((err: unknown) => logger.error({ err }, 'arbitrage edge: CORS failed to load'))
  const authn =
    modules.authenticator ??
    createAuthenticator(opts.auth, {
      logger,
      registry,
      ...(modules.clockMs ? { clockMs: modules.clockMs } : {}),
    })
  // Credentials are checked once per request, before any body is read: the rate limit charges the
  // principal they prove (or the IP without valid ones), the route's guard then checks the role.
  // Browsers cannot set headers on a WebSocket: /v1/stream may carry ?token= (a JWT or an API key).
  type Authn = { principal: Principal | null } | { error: unknown }
  const authns = new WeakMap<FastifyRequest, Authn>()
  const credentials = (req: FastifyRequest): CredentialHeaders => {
    const token = req.routeOptions.url === '/v1/stream' ? (req.query as { token?: string }).token : undefined
    return token ? { authorization: `Bearer ${token}` } : req.headers
  }
  const authOnce = async (req: FastifyRequest): Promise<Authn> => {
    let a = authns.get(req)
    if (!a) {
      try {
        a = { principal: await authn.authenticate(credentials(req)) }
      } catch (error) {
        a = { error }
      }
      authns.set(req, a)
    }
    return a
  }
  const principalOf = async (req: FastifyRequest): Promise<Principal | null> => {
    const a = await authOnce(req)
    if ('error' in a) throw a.error
    return a.principal
  }
  const limiter = new ApiLimiter(opts.rateLimit ?? DEFAULT_API_RATE_LIMIT, {
    registry,
    logger,
    ...(modules.rateLimitStore ? { store: modules.rateLimitStore } : {}),
    ...(modules.clockMs ? { now: modules.clockMs } : {}),
  })
  app.addHook('onRequest', async (req, reply) => {
    if (!limiter.opts.enabled || UNLIMITED_ROUTES.has(req.routeOptions.url ?? '')) return
    const a = await authOnce(req)
    const p = 'principal' in a ? a.principal : null
    const d = await limiter.charge(req.ip, p ? p.sub : null)
    if (d.allowed) return
    const err = d.storeDown
      ? new CairnError(ArbErrorCode.OVERLOADED, 'the rate-limit store is unavailable', { fault: 'transient' })
      : new CairnError(
          ArbErrorCode.RATE_LIMITED,
          `rate limit of ${p ? `principal ${p.sub}` : `address ${req.ip}`} reached (${p ? limiter.opts.perPrincipal : limiter.opts.perIp} requests per ${limiter.opts.windowMs / 1000} s)`,
          { fault: 'caller', hint: 'wait for Retry-After seconds; authenticated callers get a larger allowance' },
        )
    const { status, body } = httpError(err)
    logger.info({ ip: req.ip, sub: p?.sub, url: req.url }, 'request refused: rate limit')
    return reply
      .code(status)
      .header('retry-after', String(retryAfterSeconds(d)))
      .send(body)
  })
  const guardRole = (role: Role) => ({
    onRequest: async (req: FastifyRequest) => {
      requireRole(await principalOf(req), role)
    },
  })
  const who = (req: FastifyRequest) => {
    const a = authns.get(req)
    return (a && 'principal' in a ? a.principal : null) as Principal
  }
  const send = (reply: { type(t: string): { send(b: string): unknown } }, v: unknown) =>
    reply.type('application/json').send(json(v))

  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = httpError(err)
    if (status >= 500) logger.error({ err }, 'arbitrage request failed')
    reply.code(status).send(body)
  })

  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async (_req, reply) => {
    const r = await health.run()
    return reply.code(r.status === 'ok' ? 200 : 503).send(r)
  })
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  const docs = openApiDocument({
    jwks: opts.auth.jwks ?? null,
    rateLimit: opts.rateLimit ?? DEFAULT_API_RATE_LIMIT,
  })
  app.get('/docs', async () => docs)

  app.get('/v1/status', guardRole('viewer'), async (_req, reply) =>
    send(reply, { ...modules.status(), stopReason: guard.stopReason(), realizedToday: guard.realized }),
  )
  app.get('/v1/pools', guardRole('viewer'), async (req, reply) => {
    const q = parse(ListQuery, req.query)
    return send(reply, { pools: await store.listPools(q.limit, q.offset) })
  })
  app.get('/v1/opportunities', guardRole('viewer'), async (req, reply) => {
    const q = parse(ListQuery, req.query)
    const opportunities = await store.listOpportunities({
      limit: q.limit,
      ...(q.since ? { since: new Date(q.since) } : {}),
      ...(q.decision ? { decision: q.decision } : {}),
    })
    return send(reply, { opportunities })
  })
  app.get('/v1/trades', guardRole('viewer'), async (req, reply) => {
    const q = parse(ListQuery, req.query)
    return send(reply, {
      trades: await store.listTrades({ limit: q.limit, ...(q.since ? { since: new Date(q.since) } : {}) }),
    })
  })
  app.get('/v1/pnl', guardRole('viewer'), async (req, reply) => {
    const q = parse(PnlQuery, req.query)
    const buckets = await store.pnl({ bucket: q.bucket, ...(q.since ? { since: new Date(q.since) } : {}) })
    const totals: Record<string, { profit: bigint; gasCost: bigint; realized: bigint; trades: number }> = {}
    for (const b of buckets) {
      const t = totals[b.token] ?? { profit: 0n, gasCost: 0n, realized: 0n, trades: 0 }
      totals[b.token] = t
      t.profit += b.profit
      t.gasCost += b.gasCost
      t.realized += b.realized
      t.trades += b.trades
    }
    return send(reply, { bucket: q.bucket, totals, buckets })
  })
  app.get('/v1/config', guardRole('viewer'), async (_req, reply) =>
    send(reply, { entries: (await config.load()).entries }),
  )
  app.put<{ Params: { key: string } }>('/v1/config/:key', guardRole('operator'), async (req, reply) => {
    const p = who(req)
    const body = parse(ConfigBody, req.body)
    const entry = await config.put(req.params.key, body.value, { actor: p.sub, role: p.role }, body.expectedVersion)
    modules.events?.publish({ type: 'config', key: entry.key, version: entry.version, actor: p.sub })
    guard.update((await config.load()).config)
    logger.info({ key: entry.key, version: entry.version, actor: p.sub }, 'configuration changed')
    return send(reply, entry)
  })
  app.get('/v1/kill-switch', guardRole('viewer'), async () => ({
    engaged: guard.config.killSwitch,
    stopReason: guard.stopReason(),
  }))
  app.post('/v1/kill-switch', guardRole('operator'), async (req) => {
    const p = who(req)
    const body = parse(KillBody, req.body)
    // the guard first: new trades stop before the write returns, whatever the database does
    if (body.engaged) guard.update({ ...guard.config, killSwitch: true })
    await config.put('killSwitch', body.engaged, { actor: p.sub, role: p.role })
    if (body.reason)
      await store.audit({
        actor: p.sub,
        role: p.role,
        action: 'kill-switch.reason',
        details: { engaged: body.engaged, reason: body.reason },
      })
    guard.update((await config.load()).config)
    logger.warn({ engaged: body.engaged, actor: p.sub, reason: body.reason }, 'kill switch changed')
    return { engaged: guard.config.killSwitch, stopReason: guard.stopReason() }
  })
  if (modules.resetBreaker) {
    const reset = modules.resetBreaker
    app.post('/v1/breaker/reset', guardRole('operator'), async (req) => {
      const p = who(req)
      reset()
      guard.rpcSucceeded()
      await store.audit({ actor: p.sub, role: p.role, action: 'breaker.reset' })
      logger.warn({ actor: p.sub }, 'breaker reset')
      return { reset: true, stopReason: guard.stopReason() }
    })
  }
  // WebSocket /v1/stream (viewer): opportunities as decided, trades, configuration changes.
  const hub = modules.events
  if (hub) {
    void app.register(websocket, { options: { maxPayload: 4096 } })
    // Upgrades pipelined behind other requests wait for their answers; on close, open streams get 1001.
    guardFastifyWebSockets(app)
    void app.register(async (inst) => {
      inst.get('/v1/stream', { websocket: true }, async (socket, req) => {
        try {
          requireRole(await principalOf(req), 'viewer')
        } catch (err) {
          socket.send(JSON.stringify({ type: 'error', ...httpError(err).body }))
          socket.close(4401, 'unauthenticated')
          return
        }
        const off = hub.subscribe((e) => socket.send(json(e)))
        socket.on('close', off)
        socket.send(JSON.stringify({ type: 'hello' }))
      })
    })
  }
  app.get('/v1/audit', guardRole('admin'), async (req) => {
    const q = parse(AuditQuery, req.query)
    return { entries: await store.listAudit(q.after, q.limit) }
  })
  return app
}
