// The reserves service's composition root: options, the edge, probes, rate limits, the build
// runner, events and every route in one place. Over ~600 lines because the routes share one
// closure (principal lookup, audit, publish, the proof cache); the parts with logic of their own
// live beside it (store, jobs, build runner and thread, events, rate limits, compression).
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:https'
import { hostname } from 'node:os'
import type { Readable } from 'node:stream'
import {
  type CspDirectives,
  createHttpServer,
  createMetricsRegistry,
  Edge,
  guardFastifyWebSockets,
  HealthChecks,
  type LagSource,
  noopTracer,
  type RateLimitStore,
  readTls,
  reloadTls,
  requestFields,
  requestId,
  type TlsFiles,
  type Tracer,
} from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { registerBackupRoutes } from '../backup/routes.ts'
import { verifyAuditWithCheckpoint } from '../compliance/audit-checkpoint.ts'
import type { ComplianceOptions } from '../compliance/options.ts'
import { registerComplianceRoutes } from '../compliance/routes.ts'
import { registerConsoleRoutes } from '../console/routes.ts'
import { ReservesErrorCode } from '../errors.ts'
import { registerHistoryRoutes } from '../history/routes.ts'
import { RowReader } from '../input/rows.ts'
import { registerLedgerRoutes } from '../ledger/routes.ts'
import { LedgerStore } from '../ledger/store.ts'
import { createReconciliationMetrics } from '../reconciliation/metrics.ts'
import { publicSummary, registerReconciliationRoutes } from '../reconciliation/routes.ts'
import { ReconciliationRuns } from '../reconciliation/runs.ts'
import { AssetSources } from '../reconciliation/sources.ts'
import { DEFAULT_RECONCILIATION, type ReconciliationOptions, ReconciliationWorker } from '../reconciliation/worker.ts'
import { checkCurrencies, checkTotals } from '../tree/build.ts'
import type { Currency } from '../verifier/proof.ts'
import { bundleVerifier, pageAsset } from '../web/bundle.ts'
import { Deliveries } from '../webhooks/deliveries.ts'
import { WebhookEndpoints } from '../webhooks/endpoints.ts'
import { createWebhookMetrics } from '../webhooks/metrics.ts'
import { recordEvent } from '../webhooks/outbox.ts'
import { registerWebhookRoutes } from '../webhooks/routes.ts'
import { DEFAULT_WEBHOOKS, type WebhookDeliveryOptions, WebhookWorker } from '../webhooks/worker.ts'
import { type AtRestKey, open, seal, userKey } from './at-rest.ts'
import { appendAudit, listAudit } from './audit.ts'
import { type ApiKey, checkHmacSecret, type Principal, type Role, requireRole } from './auth.ts'
import { createAuthenticator, type JwksOptions } from './authenticator.ts'
import { cancelBuild, retryBuild } from './build-admin.ts'
import { sealInput } from './build-input.ts'
import { BuildRunner, DEFAULT_RUNNER } from './build-runner.ts'
import { etagMatches, registerCompression } from './compress.ts'
import { DEPRECATED_ROUTES, registerDeprecations } from './deprecation.ts'
import { edgeError, httpError } from './errors-http.ts'
import { type EventBus, LocalEventBus, type ReservesEvent } from './events.ts'
import { BuildJobs } from './jobs.ts'
import { createReservesMetrics } from './metrics.ts'
import type { BuildDispatch } from './nats-builds.ts'
import { registerNextSnapshot } from './next-snapshot.ts'
import { openApiDocument } from './openapi.ts'
import { type CachedProof, DEFAULT_PROOF_CACHE, etagOf, ProofCache } from './proof-cache.ts'
import { checkNewId, type QueueBuildDeps, queueBuild } from './queue-build.ts'
import {
  DEFAULT_RATE_LIMIT,
  ReservesLimiter,
  type ReservesRateLimitOptions,
  routeWeight,
  UNLIMITED_ROUTES,
} from './rate-limit.ts'
import type { Sql } from './sql.ts'
import { type SnapshotInfo, SnapshotStore } from './store.ts'
import type { TokenTimeLimits } from './token-times.ts'
import { traceRequests } from './tracing.ts'
import { readUpload } from './upload.ts'

export interface ReservesServiceOptions {
  /** HS256 secret for bearer tokens (null: none). */
  jwtSecret: Uint8Array | null
  /** RS256/ES256 bearer tokens from an OAuth2/OIDC provider's JWKS (null: none). */
  jwks: JwksOptions | null
  apiKeys: ApiKey[]
  /** Bounds on a bearer token's lifetime and on `iat`/`nbf` ahead of the clock (default: a day, 60 s). */
  tokenTimes?: TokenTimeLimits
  defaultHash: 'sha256' | 'keccak256'
  /** Default minimum tree depth (hides the user count). */
  defaultMinDepth: number
  /** Largest JSON body of any route but a JSON snapshot upload (proof batches, anchors). */
  maxJsonBytes: number
  /**
   * Largest JSON snapshot upload: a JSON body is parsed whole, so large snapshots go as CSV or
   * NDJSON, which stream line by line.
   */
  maxSnapshotJsonBytes: number
  /** Proofs kept in memory. */
  proofCacheSize: number
  /** redis://… for a proof cache shared by instances (null: memory only). */
  redisUrl: string | null
  /**
   * service-kit's edge, with the node's keys: Host names answered (`*`: any), CORS origins, per-IP
   * and total connection caps (0: none), silent connections closed after `firstByteTimeoutMs`
   * (0: never), load shedding past `shedLagMs` of event-loop lag (0: never).
   */
  edge: {
    vhosts: readonly string[]
    cors: readonly string[]
    maxConnectionsPerIp: number
    shedLagMs: number
    maxConnections?: number
    firstByteTimeoutMs?: number
  }
  /** PEM files: the port serves HTTPS and WSS (null: plain HTTP). `reloadTls()` re-reads them. */
  tls?: TlsFiles | null
  /** Longest a request may take to arrive (headers and body), ms; then 408. */
  requestTimeoutMs?: number
  /** Rate limits per role and per IP (off by default). */
  rateLimit?: ReservesRateLimitOptions
  /** Compress JSON/JS/HTML answers of at least this many bytes (0: never). */
  compressMinBytes?: number
  /** Snapshot builds: whether this instance runs them (an API-only instance leaves them to workers), attempts, lease. */
  builds?: { run: boolean; maxAttempts: number; leaseMs: number; pollMs: number; retryBaseMs: number }
  /** Webhook delivery from the outbox: whether this instance delivers, attempts, backoff, timeouts (DEFAULT_WEBHOOKS). */
  webhooks?: WebhookDeliveryOptions
  /** Reconciliation of assets against liabilities: whether this instance runs it, the interval, lease, RPC timeout (DEFAULT_RECONCILIATION). */
  reconciliation?: ReconciliationOptions
  /** Retention policy, report signing key, auditors' proof reads (DEFAULT_COMPLIANCE; docs/reserves/compliance.md). */
  compliance?: ComplianceOptions
}

export const DEFAULT_BUILDS: NonNullable<ReservesServiceOptions['builds']> = {
  run: true,
  maxAttempts: 3,
  leaseMs: DEFAULT_RUNNER.leaseMs,
  pollMs: DEFAULT_RUNNER.pollMs,
  retryBaseMs: DEFAULT_RUNNER.retryBaseMs,
}

export interface ReservesServiceModules {
  sql: Sql
  key: AtRestKey
  logger: Logger
  /** service-kit's Prometheus registry (one is made when absent); served at /metrics. */
  metrics?: Registry
  /** Event-loop lag for load shedding (tests inject one). */
  lag?: LagSource
  /** Milliseconds since the epoch for token expiry (tests inject one); Date.now when absent. */
  clockMs?: () => number
  /** Where rate-limit windows live (default memory; a RedisRateLimitStore shares them between instances). */
  rateLimitStore?: RateLimitStore
  /** Events for every instance (default: this process only; PgEventBus over PostgreSQL). */
  events?: EventBus
  /** Extra readiness checks (the rate-limit store, the event bus…), run by /ready beside the database and the key. */
  checks?: Record<string, () => Promise<void>>
  /** Queued builds handed to one runner over a queue (NatsBuildQueue) instead of waking every runner. */
  buildDispatch?: BuildDispatch
  /** This instance's name in build and delivery leases (default host:pid:random). */
  owner?: string
  /** A number in [0, 1) for the webhook retry jitter (default Math.random). */
  random?: () => number
  /** OpenTelemetry (service-kit's; default off): request and build spans. Wrap `sql` with traceSql for statements. */
  tracer?: Tracer
  /** The live ledger's store (default: one over `sql` and `key`; tests wrap it to pause a freeze). */
  ledger?: LedgerStore
}

export const DEFAULT_SERVICE_OPTIONS: ReservesServiceOptions = {
  jwtSecret: null,
  jwks: null,
  apiKeys: [],
  defaultHash: 'sha256',
  defaultMinDepth: 10,
  maxJsonBytes: 1 << 20,
  maxSnapshotJsonBytes: 16 << 20,
  proofCacheSize: 100_000,
  redisUrl: null,
  // Usually behind a reverse proxy with its own name: every Host, no CORS, no per-IP cap (the
  // proxy is one IP), no shedding unless configured.
  edge: { vhosts: ['*'], cors: [], maxConnectionsPerIp: 0, shedLagMs: 0 },
}

/**
 * The page's CSP: its own script, styles (inline in index.html), fetches and WebSocket; no
 * framing, no plugins, no base rewriting. The JSON routes carry the same headers (helmet's set).
 */
export const RESERVES_CSP: CspDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
}

/** The running service: its Fastify app, and a way to wait for background builds. */
export interface ReservesService {
  app: FastifyInstance
  store: SnapshotStore
  proofCache: ProofCache
  /** The Prometheus registry behind /metrics. */
  registry: Registry
  /** Resolves once optional backends (Redis) have been tried; the service answers before that. */
  opened: Promise<void>
  /** Resolves when no snapshot is building or queued (with `builds.run`; else at once). */
  idle(): Promise<void>
  /** The build queue. */
  jobs: BuildJobs
  /** Readiness checks behind /ready. */
  health: HealthChecks
  /** Webhook endpoints, the delivery queue, and this instance's delivery worker (null when it does not deliver). */
  webhooks: { endpoints: WebhookEndpoints; deliveries: Deliveries; worker: WebhookWorker | null }
  /** Declared asset sources, the reconciliation runs, and this instance's worker (null when it does not run them). */
  reconciliation: { sources: AssetSources; runs: ReconciliationRuns; worker: ReconciliationWorker | null }
  /** Re-reads the TLS files into the running server (SIGHUP); throws and keeps the old ones when unusable. */
  reloadTls(): void
  close(): Promise<void>
}

const ID = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/)
const HASH = z.enum(['sha256', 'keccak256'])
const SnapshotQuery = z.object({
  id: ID.optional(),
  hash: HASH.optional(),
  minDepth: z.coerce.number().int().min(0).max(28).optional(),
  /** For NDJSON: `BTC:8,ETH:18`; for CSV: decimals of the header's currencies. */
  currencies: z.string().max(2000).optional(),
})
const JsonSnapshot = z.object({
  id: ID.optional(),
  hash: HASH.optional(),
  minDepth: z.number().int().min(0).max(28).optional(),
  currencies: z
    .array(z.object({ symbol: z.string(), decimals: z.number().int() }))
    .min(1)
    .max(64),
  entries: z.array(z.object({ userId: z.string(), balances: z.record(z.string(), z.union([z.string(), z.number()])) })),
})
const Page = z.object({
  cursor: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})
const LeavesPage = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
})
const Batch = z.object({ userIds: z.array(z.string().min(1)).min(1).max(1000) })
const ADDRESS = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const Anchor = z.object({
  chainId: z.number().int().positive(),
  txHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  blockNumber: z.number().int().nonnegative(),
  /** The ReservesRegistry contract (absent for a calldata anchor). */
  registry: ADDRESS.optional(),
  publisher: ADDRESS.optional(),
})

function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v)
  if (!r.success)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `bad request: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`,
      {
        fault: 'caller',
      },
    )
  return r.data
}

/**
 * A snapshot as a viewer may see it. Users see what their proof shows and no more: not the exact
 * user count, nor the depth and minimum depth (the random padding up to the minimum depth exists
 * to hide the count). Staff see everything.
 */
function forViewer(s: SnapshotInfo, role: Role): Partial<SnapshotInfo> {
  if (role !== 'user') return s
  const { userCount: _count, depth: _depth, minDepth: _min, ...shown } = s
  return shown
}

/**
 * How the audit trail names a user: the first 16 bytes of the users table's lookup key
 * (HMAC(at-rest key, snapshot ‖ user id)), never the id. Whoever holds the key can tell whether a
 * given user's proof was read (compute the ref); the table itself, its backups and the database's
 * WAL reveal no ids.
 */
function auditRef(key: AtRestKey, snapshotId: string, userId: string): string {
  return Buffer.from(userKey(key, snapshotId, userId).subarray(0, 16)).toString('hex')
}

function parseCurrencyList(text: string | undefined): Currency[] | null {
  if (!text) return null
  return text.split(',').map((part) => {
    const [symbol, decimals] = part.split(':')
    return { symbol: (symbol ?? '').trim(), decimals: Number(decimals ?? 0) }
  })
}

/** Sends a JSON body with a strong ETag and `cacheControl`; answers 304 to a matching If-None-Match. */
function sendTagged(
  req: FastifyRequest,
  reply: FastifyReply,
  body: string,
  cacheControl: string,
  etag = etagOf(body),
  type = 'application/json',
) {
  reply.header('etag', etag).header('cache-control', cacheControl)
  if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send()
  return reply.type(type).send(body)
}

/** A proof never changes once its snapshot is built: private (it names the user), immutable. */
function sendImmutable(req: FastifyRequest, reply: FastifyReply, proof: CachedProof) {
  return sendTagged(req, reply, proof.body, 'private, max-age=31536000, immutable', proof.etag)
}

/**
 * The reserves HTTP service: snapshots in, proofs out, with roles (admin, auditor, user), an
 * audit trail of every sensitive action, and the proof-checking page at `/`.
 */
export function createReservesService(opts: ReservesServiceOptions, modules: ReservesServiceModules): ReservesService {
  const { sql, key, logger } = modules
  const store = new SnapshotStore(sql, key)
  const registry = modules.metrics ?? createMetricsRegistry({ version: '0.1.0', commit: 'unknown' })
  const metrics = createReservesMetrics(registry)
  const cache = new ProofCache(
    { ...DEFAULT_PROOF_CACHE, memoryEntries: opts.proofCacheSize, redisUrl: opts.redisUrl },
    { key, logger, metrics, registry },
  )
  const opened = cache.open()
  checkHmacSecret(opts.jwtSecret)
  const jobs = new BuildJobs(sql)
  const events = modules.events ?? new LocalEventBus()
  const builds = opts.builds ?? DEFAULT_BUILDS
  const owner = modules.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const hookOpts = opts.webhooks ?? DEFAULT_WEBHOOKS
  const endpoints = new WebhookEndpoints(sql, key)
  const deliveries = new Deliveries(sql)
  const hookMetrics = createWebhookMetrics(registry)
  const worker = hookOpts.deliver
    ? new WebhookWorker(
        { ...hookOpts, owner },
        {
          deliveries,
          endpoints,
          logger: logger.child({ component: 'webhooks' }),
          metrics: hookMetrics,
          clockMs: modules.clockMs ?? Date.now,
          random: modules.random ?? Math.random,
        },
      )
    : null
  const recOpts = opts.reconciliation ?? DEFAULT_RECONCILIATION
  const assetSources = new AssetSources(sql, key)
  const recRuns = new ReconciliationRuns(sql)
  const recMetrics = createReconciliationMetrics(registry)
  const reconciler = recOpts.run
    ? new ReconciliationWorker(
        { ...recOpts, owner },
        {
          sql,
          runs: recRuns,
          sources: assetSources,
          store,
          logger: logger.child({ component: 'reconciliation' }),
          metrics: recMetrics,
          clockMs: modules.clockMs ?? Date.now,
          onFinished: () => worker?.wake(),
        },
      )
    : null
  const tlsPem = opts.tls ? readTls(opts.tls, { cert: 'http.tlsCert', key: 'http.tlsKey' }) : null
  let server: Server | null = null
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxJsonBytes,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    // service-kit's server: plain or TLS, requests bounded in time (408)
    serverFactory: (handler) => {
      const s = createHttpServer(tlsPem, opts.requestTimeoutMs ?? 30_000, handler)
      if (tlsPem) server = s as Server
      return s
    },
  })
  // service-kit's edge, as on the RPC port: security headers and x-request-id on every answer,
  // virtual hosts, WebSocket origins, the per-IP cap and load shedding before auth, then CORS.
  const edge = new Edge(
    {
      ...opts.edge,
      tls: tlsPem !== null,
      csp: RESERVES_CSP,
      corsMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      // /v1/stream takes its token in the URL (browsers cannot set headers on a WebSocket): no
      // ambient credentials, so any page may open one, as before the edge.
      checks: { webSocketOrigins: 'any' },
    },
    {
      refuse: (refused, req, reply) => {
        const { status, body } = httpError(edgeError(refused))
        logger.info(
          { reason: refused.kind, ip: req.ip, url: req.url, ...requestFields(req.id) },
          `request refused: ${refused.message}`,
        )
        return reply.code(status).send(body)
      },
      ...(modules.lag ? { lag: modules.lag } : {}),
    },
  )
  // The hooks are in place when `register` returns; CORS loads with the app's other plugins.
  edge.register(app).catch((err: unknown) => logger.error({ err }, 'reserves edge: CORS failed to load'))
  let verifierJs: Promise<string> | null = null
  /** Open /v1/stream sockets and who holds them. */
  const streams = new Set<{ send(data: string): void; principal: Principal }>()
  /** Sends an event to this instance's staff streams, and to a user's when `forUser` says it concerns them. */
  const toStreams = (event: Record<string, unknown>, forUser: (sub: string) => boolean | Promise<boolean>) => {
    const text = JSON.stringify(event)
    for (const s of streams) {
      if (s.principal.role !== 'user') s.send(text)
      else
        void Promise.resolve(forUser(s.principal.sub)).then(
          (yes) => yes && s.send(text),
          () => {},
        )
    }
  }
  /** Publishes to every instance (the event bus); each sends it to its own streams. */
  const publish = (event: ReservesEvent) =>
    events.publish(event).catch((err: unknown) => logger.warn({ err, event: event.type }, 'event not published'))
  let runner: BuildRunner | null = null
  const dispatch = modules.buildDispatch
  const buildQueue: QueueBuildDeps = {
    sql,
    store,
    jobs,
    maxAttempts: builds.maxAttempts,
    logger,
    queued: (id) => {
      if (dispatch) dispatch.dispatch(id)
      else runner?.wake()
      void publish({ type: 'job.queued', id })
    },
  }
  events.subscribe((e) => {
    // whatever happened on any instance was recorded in the outbox with it: deliver now
    worker?.wake()
    reconciler?.wake()
    if (e.type === 'job.queued') return dispatch ? undefined : runner?.wake()
    if (e.type === 'snapshot.built' && typeof e.id === 'string') {
      const id = e.id
      toStreams({ type: 'snapshot.built', id, root: e.root }, () => true)
      toStreams({ type: 'proof.available', id }, (sub) => store.hasUser(id, sub))
      return
    }
    if (e.type === 'snapshot.anchored') toStreams(e, () => true)
    if (e.type === 'snapshot.failed') toStreams(e, () => false)
  })
  if (builds.run)
    runner = new BuildRunner(
      {
        ...DEFAULT_RUNNER,
        owner,
        leaseMs: builds.leaseMs,
        pollMs: builds.pollMs,
        pollGraceMs: dispatch ? builds.pollMs : 0,
        retryBaseMs: builds.retryBaseMs,
      },
      {
        sql,
        key,
        store,
        jobs,
        logger,
        metrics,
        onBuilt: (e) => {
          void publish({ type: 'snapshot.built', id: e.id, root: e.root })
          // a reconciliation of every new snapshot, once (whichever instance runs it)
          recRuns
            .enqueue(e.id, 'build', `build:${e.id}`)
            .then(() => reconciler?.wake())
            .catch((err: unknown) => logger.warn({ err, id: e.id }, 'reconciliation not queued after the build'))
        },
        onFailed: (e) => void publish({ type: 'snapshot.failed', id: e.id, error: e.error }),
        ...(modules.tracer ? { tracer: modules.tracer } : {}),
      },
    )

  // Readiness: the database answers, the at-rest key seals and opens, and what the operator
  // configured besides (rate-limit store, event bus); /health only says the process answers.
  const health = new HealthChecks({ timeoutMs: 2_000 })
  health.register('database', async () => void (await sql.query('SELECT 1 AS x')))
  health.register('key', async () => {
    const probe = new TextEncoder().encode('ready')
    if (new TextDecoder().decode(open(key, seal(key, probe, 'ready'), 'ready')) !== 'ready')
      throw new CairnError(ReservesErrorCode.KEY_INVALID, 'the at-rest key does not open what it seals', {
        fault: 'internal',
      })
  })
  health.register('queue', async () => void (await jobs.pending()))
  if (opts.redisUrl) health.register('redis', () => cache.check())
  if (modules.events) health.register('events', () => events.check())
  for (const [name, check] of Object.entries(modules.checks ?? {})) health.register(name, check)
  const limiter = new ReservesLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT, {
    logger,
    ...(modules.rateLimitStore ? { store: modules.rateLimitStore } : {}),
    ...(modules.clockMs ? { now: modules.clockMs } : {}),
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
    { logger, metrics: registry, ...(modules.clockMs ? { clockMs: modules.clockMs } : {}) },
  )
  const need = async (req: FastifyRequest, roles: Role[]) =>
    requireRole(await authn(req.headers as Record<string, string | undefined>), roles)
  // Credentials are checked in `onRequest`, before Fastify reads or parses any body: an anonymous
  // request never costs more than its headers, whatever it sends after them.
  const principals = new WeakMap<FastifyRequest, Principal>()
  const guard = (roles: Role[]) => ({
    config: { guarded: true },
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      const p = await need(req, roles)
      principals.set(req, p)
      await charge(req, reply, p)
    },
  })
  // Routes without a guard (the page, the public anchor, the docs) are charged to the caller's IP.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.routeOptions.config || !(req.routeOptions.config as { guarded?: boolean }).guarded)
      await charge(req, reply, null)
  })
  const who = (req: FastifyRequest): Principal => principals.get(req) as Principal
  const audit = (p: Principal, action: string, details: Record<string, unknown>) =>
    appendAudit(sql, { actor: p.sub, role: p.role, action, details })

  // CSV and NDJSON arrive as streams; the row reader consumes them line by line.
  for (const type of ['text/csv', 'application/x-ndjson', 'application/ndjson'])
    app.addContentTypeParser(type, (_req, payload, done) => done(null, payload))

  // requests by route pattern (never the raw URL: ids would explode the label set) and status
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched'
    const method = req.method
    metrics.requests.inc({ method, route, status: String(reply.statusCode) })
    metrics.requestSeconds.observe({ method, route }, reply.elapsedTime / 1000)
  })

  traceRequests(app, modules.tracer ?? noopTracer)
  registerCompression(app, opts.compressMinBytes ?? 1024)
  registerDeprecations(app, DEPRECATED_ROUTES)

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = httpError(err)
    if (status >= 500) logger.error({ err, ...requestFields(req.id) }, 'reserves request failed')
    reply.code(status).send(body)
  })

  app.post('/v1/snapshots', { ...guard(['admin']), bodyLimit: opts.maxSnapshotJsonBytes }, async (req, reply) => {
    const p = who(req)
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim()
    // JSON bodies (at most maxSnapshotJsonBytes) are parsed here; CSV and NDJSON bodies, of any
    // size, are read, checked and sealed on an upload thread (upload.ts) while this one serves.
    let json: z.infer<typeof JsonSnapshot> | null = null
    let query: z.infer<typeof SnapshotQuery> | null = null
    if (type === 'application/json') json = parse(JsonSnapshot, req.body)
    else if (type === 'text/csv' || type.endsWith('ndjson')) query = parse(SnapshotQuery, req.query)
    else
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `content type ${type || '(none)'} is not a snapshot`, {
        fault: 'caller',
        hint: 'send text/csv, application/x-ndjson or application/json',
      })
    const given = json ? json.currencies : parseCurrencyList(query?.currencies)
    if (given) checkCurrencies(given)
    const hash = json?.hash ?? query?.hash ?? opts.defaultHash
    const minDepth = json?.minDepth ?? query?.minDepth ?? opts.defaultMinDepth
    const snapshotId =
      json?.id ?? query?.id ?? `snap-${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`
    // An id is never reused for another tree; a failed (or cancelled) snapshot's id may be uploaded again.
    const existing = await checkNewId(store, snapshotId)
    let snap: { currencies: Currency[]; users: number; parts: Uint8Array[] }
    if (json) {
      const reader = new RowReader('ndjson', json.currencies)
      for (const e of json.entries) reader.push(JSON.stringify(e))
      const read = reader.finish()
      checkTotals(read.entries, read.currencies.length, minDepth)
      snap = {
        currencies: read.currencies,
        users: read.entries.length,
        parts: sealInput(key, snapshotId, read.entries),
      }
    } else
      snap = await readUpload(req.body as Readable, {
        format: type === 'text/csv' ? 'csv' : 'ndjson',
        currencies: given,
        snapshotId,
        minDepth,
        key,
      })
    await queueBuild(
      buildQueue,
      { actor: p.sub, role: p.role, requestId: req.id },
      { id: snapshotId, hash, minDepth, currencies: snap.currencies, users: snap.users, parts: snap.parts },
      existing,
    )
    return reply.code(202).send({ id: snapshotId, status: 'building' })
  })

  app.get('/v1/snapshots', guard(['admin', 'auditor', 'user']), async (req) => {
    const q = parse(Page, req.query)
    const page = await store.list(q.cursor ? Number(q.cursor) : null, q.limit)
    return { ...page, items: page.items.map((s) => forViewer(s, who(req).role)) }
  })

  app.get('/v1/snapshots/:id', guard(['admin', 'auditor', 'user']), async (req, reply) => {
    const { id } = req.params as { id: string }
    const s = await store.get(id)
    // not immutable: an anchor may still be added; clients revalidate with the ETag
    const body = JSON.stringify(forViewer(s, who(req).role))
    return sendTagged(req, reply, body, s.status === 'built' ? 'no-cache' : 'no-store')
  })

  // Only built snapshots have proofs (store.proof refuses others), and a built snapshot never
  // changes, so a cached proof is never stale.
  const proofBody = (id: string, userId: string) =>
    cache.get(id, userId, async () => JSON.stringify(await store.proof(id, userId)))
  const timed = async <T>(route: string, fn: () => Promise<T>): Promise<T> => {
    const stop = metrics.proofServeSeconds.startTimer({ route })
    try {
      return await fn()
    } finally {
      stop()
    }
  }

  app.get('/v1/snapshots/:id/proof', guard(['user']), async (req, reply) => {
    const p = who(req)
    const { id } = req.params as { id: string }
    return sendImmutable(req, reply, await timed('own', () => proofBody(id, p.sub)))
  })

  app.get('/v1/snapshots/:id/proofs/:userId', guard(['admin', 'auditor']), async (req, reply) => {
    const p = who(req)
    const { id, userId } = req.params as { id: string; userId: string }
    const body = await timed('staff', () => proofBody(id, userId))
    await audit(p, 'proof.read', { id, users: [auditRef(key, id, userId)] })
    return sendImmutable(req, reply, body)
  })

  app.post('/v1/snapshots/:id/proofs/batch', guard(['admin', 'auditor']), async (req) => {
    const p = who(req)
    const { id } = req.params as { id: string }
    const { userIds } = parse(Batch, req.body)
    const proofs: unknown[] = []
    const missing: string[] = []
    for (const u of new Set(userIds)) {
      try {
        proofs.push(JSON.parse((await timed('batch', () => proofBody(id, u))).body))
      } catch (err) {
        if (err instanceof CairnError && err.code === ReservesErrorCode.USER_UNKNOWN) missing.push(u)
        else throw err
      }
    }
    await audit(p, 'proof.read', { id, users: [...new Set(userIds)].map((u) => auditRef(key, id, u)) })
    return { proofs, missing }
  })

  app.get('/v1/snapshots/:id/leaves', guard(['auditor', 'admin']), async (req, reply) => {
    const { id } = req.params as { id: string }
    const q = parse(LeavesPage, req.query)
    // a built snapshot's leaves never change: revalidated with the ETag, never refetched whole
    return sendTagged(req, reply, JSON.stringify(await store.leaves(id, q.offset, q.limit)), 'private, no-cache')
  })

  // The build queue, for operators: what is queued, running (and on which worker, until when),
  // failed; a stuck build cancelled (its rows removed, the snapshot failed, its id free again) or a
  // failed one retried.
  app.get('/v1/builds', guard(['admin']), async (req) => {
    const q = parse(
      z.object({
        all: z.enum(['true', 'false']).default('false'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      req.query,
    )
    return { builds: await jobs.list(q.all === 'true', q.limit) }
  })
  const jobOf = async (id: string) => {
    const j = await jobs.get(id)
    if (!j)
      throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `no build job for snapshot ${id}`, { fault: 'caller' })
    return j
  }
  app.get('/v1/builds/:id', guard(['admin']), async (req) => jobOf((req.params as { id: string }).id))
  app.post('/v1/builds/:id/cancel', guard(['admin']), async (req) => {
    const { id } = req.params as { id: string }
    const j = await cancelBuild({ sql, jobs, store }, id, who(req))
    void publish({ type: 'snapshot.failed', id, error: 'cancelled' })
    return j
  })
  app.post('/v1/builds/:id/retry', guard(['admin']), async (req) => {
    const { id } = req.params as { id: string }
    const j = await retryBuild({ sql, jobs }, id, who(req))
    buildQueue.queued(id)
    return j
  })

  app.put('/v1/snapshots/:id/anchor', guard(['admin']), async (req) => {
    const p = who(req)
    const { id } = req.params as { id: string }
    const a = parse(Anchor, req.body)
    await store.get(id)
    await sql.transaction(async (tx) => {
      await store.setAnchor(id, a, tx)
      await appendAudit(tx, { actor: p.sub, role: p.role, action: 'snapshot.anchored', details: { id, ...a } })
      await recordEvent(tx, 'snapshot.anchored', { snapshotId: id, anchor: a })
    })
    void publish({ type: 'snapshot.anchored', id, anchor: a })
    return store.get(id)
  })

  // Public once anchored: the root, totals and where they were published are meant to be seen by
  // everyone (the page shows them next to a pasted proof). 404 until the snapshot is anchored.
  app.get('/v1/snapshots/:id/anchor', async (req, reply) => {
    const { id } = req.params as { id: string }
    const s = await store.get(id)
    if (!s.anchor || !s.root)
      throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `snapshot ${id} has not been anchored`, {
        fault: 'caller',
      })
    // with the newest completed reconciliation of this snapshot (null when none): reserves beside liabilities
    const reconciliation = publicSummary(await recRuns.latest(s.id, { completedOnly: true }))
    const body = {
      snapshotId: s.id,
      hash: s.hash,
      currencies: s.currencies,
      root: s.root,
      anchor: s.anchor,
      reconciliation,
    }
    return sendTagged(req, reply, JSON.stringify(body), 'public, max-age=60')
  })

  registerWebhookRoutes(app, { sql, endpoints, deliveries, guard, who, wake: () => worker?.wake() })
  registerHistoryRoutes(app, { store, proof: async (id, u) => (await proofBody(id, u)).body, guard, who })
  registerLedgerRoutes(app, {
    store: modules.ledger ?? new LedgerStore(sql, key),
    key,
    queue: buildQueue,
    registry,
    logger,
    defaultHash: opts.defaultHash,
    defaultMinDepth: opts.defaultMinDepth,
    clockMs: modules.clockMs ?? Date.now,
    guard,
    who,
  })
  registerNextSnapshot(app, { key, queue: buildQueue, bodyLimit: opts.maxSnapshotJsonBytes, guard, who, parse })
  registerBackupRoutes(app, { sql, guard, who, registry, logger })
  registerConsoleRoutes(app, { guard, who })
  const clockMs = modules.clockMs ?? Date.now
  const compliance = registerComplianceRoutes(app, {
    sql,
    key,
    store,
    runs: recRuns,
    registry,
    logger,
    guard,
    who,
    clockMs,
    opts: opts.compliance,
  })
  registerReconciliationRoutes(app, {
    sql,
    sources: assetSources,
    runs: recRuns,
    store,
    guard,
    who,
    wake: () => reconciler?.wake(),
  })

  app.get('/v1/audit', guard(['admin', 'auditor']), async (req) => {
    const q = parse(
      z.object({
        after: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      req.query,
    )
    const entries = await listAudit(sql, q.after, q.limit)
    return { entries }
  })

  app.get('/v1/audit/verify', guard(['admin', 'auditor']), async () => {
    return verifyAuditWithCheckpoint(sql) // a pruned prefix is accounted for by its checkpoint
  })

  // WebSocket /v1/stream: snapshot built / anchored, and "your proof is available" for users.
  // Browsers cannot set headers on a WebSocket, so the token may also come as ?token=.
  void app.register(websocket, { options: { maxPayload: 4096 } })
  // Upgrades pipelined behind other requests wait for their answers; on close, open streams get 1001.
  guardFastifyWebSockets(app)
  void app.register(async (inst) => {
    inst.get('/v1/stream', { websocket: true }, async (socket, req) => {
      let principal: Principal
      try {
        const token = (req.query as { token?: string }).token
        const headers = token ? { authorization: `Bearer ${token}` } : (req.headers as Record<string, string>)
        principal = requireRole(await authn(headers), ['admin', 'auditor', 'user'])
      } catch (err) {
        socket.send(JSON.stringify({ type: 'error', ...httpError(err).body }))
        socket.close(4401, 'unauthenticated')
        return
      }
      const entry = { send: (d: string) => socket.send(d), principal }
      streams.add(entry)
      socket.on('close', () => streams.delete(entry))
      socket.send(JSON.stringify({ type: 'hello', sub: principal.sub, role: principal.role }))
    })
  })

  // Probes: /health answers while the process serves (never touches the database; exempt from
  // load shedding); /ready runs the checks and answers 503 naming the failing ones.
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async (_req, reply) => {
    const r = await health.run()
    return reply.code(r.status === 'ok' ? 200 : 503).send(r)
  })
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  const docs = JSON.stringify(openApiDocument())
  app.get('/docs', async (req, reply) => sendTagged(req, reply, docs, 'no-cache'))
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(await pageAsset('index.html')))
  app.get('/page.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(await pageAsset('page.js')),
  )
  let verifierTag: string | null = null
  app.get('/verifier.js', async (req, reply) => {
    verifierJs ??= bundleVerifier()
    const js = await verifierJs
    verifierTag ??= etagOf(js)
    return sendTagged(req, reply, js, 'no-cache', verifierTag, 'text/javascript; charset=utf-8')
  })

  const idle = async () => {
    if (!runner) return
    while ((await jobs.pending()) > 0) {
      runner.wake()
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  // Jobs left running by a process that died: with PGlite (one process per datadir) they are
  // claimable at once; over PostgreSQL, once their lease runs out.
  const started = (async () => {
    if (!runner) return
    if (sql.driver === 'pglite') {
      const released = await jobs.releaseAll()
      if (released > 0) logger.warn({ released }, 'builds interrupted by a previous process: building them again')
    }
    runner.start()
    dispatch?.start(runner)
  })().catch((err: unknown) => logger.error({ err }, 'build runner failed to start'))
  // Deliveries leased by a process that died: with PGlite they are due at once (sent again, with the
  // same idempotency key); over PostgreSQL, once their lease runs out.
  const delivering = (async () => {
    if (!worker) return
    if (sql.driver === 'pglite') {
      const released = await deliveries.releaseAll()
      if (released > 0) logger.warn({ released }, 'webhook deliveries interrupted by a previous process: sending again')
    }
    await worker.refreshBacklog(true)
    worker.start()
  })().catch((err: unknown) => logger.error({ err }, 'webhook worker failed to start'))
  // Runs left running by a process that died: as for builds and deliveries.
  const reconciling = (async () => {
    if (!reconciler) return
    if (sql.driver === 'pglite') {
      const released = await recRuns.releaseAll()
      if (released > 0)
        logger.warn({ released }, 'reconciliations interrupted by a previous process: running them again')
    }
    reconciler.start()
  })().catch((err: unknown) => logger.error({ err }, 'reconciliation worker failed to start'))
  return {
    app,
    store,
    proofCache: cache,
    registry,
    opened,
    idle,
    jobs,
    health,
    webhooks: { endpoints, deliveries, worker },
    reconciliation: { sources: assetSources, runs: recRuns, worker: reconciler },
    reloadTls: () => {
      if (!opts.tls || !server)
        throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the service does not serve TLS', { fault: 'caller' })
      reloadTls(server, opts.tls)
    },
    close: async () => {
      await started
      await delivering
      await reconciling
      await reconciler?.stop()
      await worker?.stop()
      await runner?.stop()
      await dispatch?.stop()
      await app.close()
      edge.close()
      await cache.close()
      await compliance.close()
    },
  }
}
