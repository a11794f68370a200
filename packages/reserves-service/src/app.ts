// The reserves service's composition root. Each step is a named builder that returns what the next
// needs: the kernel (store, metrics, proof cache, jobs, events), the webhook and reconciliation
// workers, the build runner and queue, the Fastify app behind service-kit's edge, access (auth and
// rate limits), then the features — each a Fastify plugin registered here — and the probes. Closing
// runs in reverse. The parts with logic of their own live in kernel/ (the floor every feature
// imports), jobs/ (snapshot builds) and features/.
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:https'
import { hostname } from 'node:os'
import { ReservesErrorCode } from '@cairn/reserves'
import {
  createHttpServer,
  createMetricsRegistry,
  Edge,
  HealthChecks,
  noopTracer,
  readTls,
  reloadTls,
  requestFields,
  requestId,
} from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import {
  DEFAULT_BUILDS,
  RESERVES_CSP,
  type ReservesService,
  type ReservesServiceModules,
  type ReservesServiceOptions,
} from './app-options.ts'
import { backupRoutes } from './features/backup/routes.ts'
import { auditRoutes } from './features/compliance/audit-routes.ts'
import { type Compliance, openCompliance } from './features/compliance/module.ts'
import { complianceRoutes } from './features/compliance/routes.ts'
import { consoleRoutes } from './features/console/routes.ts'
import { historyRoutes } from './features/history/routes.ts'
import { ledgerRoutes } from './features/ledger/routes.ts'
import { LedgerStore } from './features/ledger/store.ts'
import { pageRoutes } from './features/page/routes.ts'
import { createReconciliationMetrics } from './features/reconciliation/metrics.ts'
import { publicSummary, reconciliationRoutes } from './features/reconciliation/routes.ts'
import { ReconciliationRuns } from './features/reconciliation/runs.ts'
import { AssetSources } from './features/reconciliation/sources.ts'
import { DEFAULT_RECONCILIATION, ReconciliationWorker } from './features/reconciliation/worker.ts'
import { snapshotRoutes } from './features/snapshots/plugin.ts'
import { createStreamHub, type StreamHub } from './features/stream/hub.ts'
import { registerStream } from './features/stream/routes.ts'
import { Deliveries } from './features/webhooks/deliveries.ts'
import { WebhookEndpoints } from './features/webhooks/endpoints.ts'
import { createWebhookMetrics } from './features/webhooks/metrics.ts'
import { webhookRoutes } from './features/webhooks/routes.ts'
import { DEFAULT_WEBHOOKS, WebhookWorker } from './features/webhooks/worker.ts'
import { BuildRunner, DEFAULT_RUNNER } from './jobs/build-runner.ts'
import { BuildJobs } from './jobs/jobs.ts'
import type { QueueBuildDeps } from './jobs/queue-build.ts'
import { type Access, createAccess } from './kernel/access.ts'
import { open, seal } from './kernel/at-rest.ts'
import { checkHmacSecret } from './kernel/auth.ts'
import { registerCompression } from './kernel/compress.ts'
import { DEPRECATED_ROUTES, registerDeprecations } from './kernel/deprecation.ts'
import { edgeError, httpError } from './kernel/errors-http.ts'
import { type EventBus, LocalEventBus, type ReservesEvent } from './kernel/events.ts'
import { createReservesMetrics, type ReservesMetrics } from './kernel/metrics.ts'
import { type CachedProof, DEFAULT_PROOF_CACHE, ProofCache } from './kernel/proof-cache.ts'
import { SnapshotStore } from './kernel/store.ts'
import { traceRequests } from './kernel/tracing.ts'
import { openApiDocument } from './openapi.ts'

export type { ReservesService, ReservesServiceModules, ReservesServiceOptions } from './app-options.ts'
export { DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, RESERVES_CSP } from './app-options.ts'

type Options = ReservesServiceOptions
type Modules = ReservesServiceModules

/** The floor every feature stands on, made once per service. */
interface Kernel {
  store: SnapshotStore
  registry: Registry
  metrics: ReservesMetrics
  cache: ProofCache
  /** Resolves once optional backends (Redis) have been tried. */
  opened: Promise<void>
  jobs: BuildJobs
  events: EventBus
  /** This instance's name in build and delivery leases. */
  owner: string
  clockMs: () => number
  /** Publishes to every instance (the event bus); each sends it to its own streams. */
  publish: (event: ReservesEvent) => Promise<void>
  /** A user's proof as JSON through the proof cache (a built snapshot never changes: never stale). */
  proofBody: (id: string, userId: string) => Promise<CachedProof>
}

function openKernel(opts: Options, m: Modules): Kernel {
  const { sql, key, logger } = m
  const store = new SnapshotStore(sql, key)
  const registry = m.metrics ?? createMetricsRegistry({ version: '0.1.0', commit: 'unknown' })
  const metrics = createReservesMetrics(registry)
  const cache = new ProofCache(
    { ...DEFAULT_PROOF_CACHE, memoryEntries: opts.proofCacheSize, redisUrl: opts.redisUrl },
    { key, logger, metrics, registry },
  )
  const opened = cache.open()
  checkHmacSecret(opts.jwtSecret)
  const events = m.events ?? new LocalEventBus()
  return {
    store,
    registry,
    metrics,
    cache,
    opened,
    jobs: new BuildJobs(sql),
    events,
    owner: m.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    clockMs: m.clockMs ?? Date.now,
    publish: (event) =>
      events.publish(event).catch((err: unknown) => logger.warn({ err, event: event.type }, 'event not published')),
    proofBody: (id, userId) => cache.get(id, userId, async () => JSON.stringify(await store.proof(id, userId))),
  }
}

interface Webhooks {
  endpoints: WebhookEndpoints
  deliveries: Deliveries
  /** This instance's delivery worker (null when it does not deliver). */
  worker: WebhookWorker | null
}

function openWebhooks(opts: Options, m: Modules, k: Kernel): Webhooks {
  const hookOpts = opts.webhooks ?? DEFAULT_WEBHOOKS
  const endpoints = new WebhookEndpoints(m.sql, m.key)
  const deliveries = new Deliveries(m.sql)
  const hookMetrics = createWebhookMetrics(k.registry)
  const worker = hookOpts.deliver
    ? new WebhookWorker(
        { ...hookOpts, owner: k.owner },
        {
          deliveries,
          endpoints,
          logger: m.logger.child({ component: 'webhooks' }),
          metrics: hookMetrics,
          clockMs: k.clockMs,
          random: m.random ?? Math.random,
        },
      )
    : null
  return { endpoints, deliveries, worker }
}

interface Reconciliation {
  sources: AssetSources
  runs: ReconciliationRuns
  /** This instance's worker (null when it does not run reconciliations). */
  worker: ReconciliationWorker | null
  /** The public summary of a snapshot's newest completed run (null: none). */
  summary: (snapshotId: string) => Promise<Record<string, unknown> | null>
}

function openReconciliation(opts: Options, m: Modules, k: Kernel, webhooks: Webhooks): Reconciliation {
  const recOpts = opts.reconciliation ?? DEFAULT_RECONCILIATION
  const sources = new AssetSources(m.sql, m.key)
  const runs = new ReconciliationRuns(m.sql)
  const recMetrics = createReconciliationMetrics(k.registry)
  const worker = recOpts.run
    ? new ReconciliationWorker(
        { ...recOpts, owner: k.owner },
        {
          sql: m.sql,
          runs,
          sources,
          store: k.store,
          logger: m.logger.child({ component: 'reconciliation' }),
          metrics: recMetrics,
          clockMs: k.clockMs,
          onFinished: () => webhooks.worker?.wake(),
        },
      )
    : null
  const summary = async (snapshotId: string) => publicSummary(await runs.latest(snapshotId, { completedOnly: true }))
  return { sources, runs, worker, summary }
}

interface Builds {
  /** This instance's runner (null with `builds.run` off: an API-only instance). */
  runner: BuildRunner | null
  /** What the routes that queue a build need. */
  queue: QueueBuildDeps
}

/** The build queue and (with `builds.run`) this instance's runner; every queued build is published. */
function openBuilds(opts: Options, m: Modules, k: Kernel): Builds {
  const builds = opts.builds ?? DEFAULT_BUILDS
  const dispatch = m.buildDispatch
  const b: Builds = {
    runner: null,
    queue: {
      sql: m.sql,
      store: k.store,
      jobs: k.jobs,
      maxAttempts: builds.maxAttempts,
      logger: m.logger,
      queued: (id) => {
        if (dispatch) dispatch.dispatch(id)
        else b.runner?.wake()
        void k.publish({ type: 'job.queued', id })
      },
    },
  }
  return b
}

/** The runner (made after the events are wired, as the service always did). */
function startRunner(opts: Options, m: Modules, k: Kernel, b: Builds, reconciliation: Reconciliation): void {
  const builds = opts.builds ?? DEFAULT_BUILDS
  if (!builds.run) return
  const { logger } = m
  b.runner = new BuildRunner(
    {
      ...DEFAULT_RUNNER,
      owner: k.owner,
      leaseMs: builds.leaseMs,
      pollMs: builds.pollMs,
      pollGraceMs: m.buildDispatch ? builds.pollMs : 0,
      retryBaseMs: builds.retryBaseMs,
    },
    {
      sql: m.sql,
      key: m.key,
      store: k.store,
      jobs: k.jobs,
      logger,
      metrics: k.metrics,
      onBuilt: (e) => {
        void k.publish({ type: 'snapshot.built', id: e.id, root: e.root })
        // a reconciliation of every new snapshot, once (whichever instance runs it)
        reconciliation.runs
          .enqueue(e.id, 'build', `build:${e.id}`)
          .then(() => reconciliation.worker?.wake())
          .catch((err: unknown) => logger.warn({ err, id: e.id }, 'reconciliation not queued after the build'))
      },
      onFailed: (e) => void k.publish({ type: 'snapshot.failed', id: e.id, error: e.error }),
      ...(m.tracer ? { tracer: m.tracer } : {}),
    },
  )
}

/** Whatever happened on any instance was recorded in the outbox with it: deliver, reconcile, build, tell the streams. */
function wireEvents(
  m: Modules,
  k: Kernel,
  w: { webhooks: Webhooks; reconciliation: Reconciliation; builds: Builds; hub: StreamHub },
): void {
  k.events.subscribe((e) => {
    w.webhooks.worker?.wake()
    w.reconciliation.worker?.wake()
    if (e.type === 'job.queued') return m.buildDispatch ? undefined : w.builds.runner?.wake()
    w.hub.onEvent(e)
  })
}

/**
 * Readiness: the database answers, the at-rest key seals and opens, and what the operator configured
 * besides (rate-limit store, event bus); /health only says the process answers.
 */
function openHealth(opts: Options, m: Modules, k: Kernel): HealthChecks {
  const { sql, key } = m
  const health = new HealthChecks({ timeoutMs: 2_000 })
  health.register('database', async () => void (await sql.query('SELECT 1 AS x')))
  health.register('key', async () => {
    const probe = new TextEncoder().encode('ready')
    if (new TextDecoder().decode(open(key, seal(key, probe, 'ready'), 'ready')) !== 'ready')
      throw new CairnError(ReservesErrorCode.KEY_INVALID, 'the at-rest key does not open what it seals', {
        fault: 'internal',
      })
  })
  health.register('queue', async () => void (await k.jobs.pending()))
  if (opts.redisUrl) health.register('redis', () => k.cache.check())
  if (m.events) health.register('events', () => k.events.check())
  for (const [name, check] of Object.entries(m.checks ?? {})) health.register(name, check)
  return health
}

interface Http {
  app: FastifyInstance
  edge: Edge
  /** The TLS server once Fastify has made it (null: plain HTTP). */
  server: () => Server | null
}

/** Fastify on service-kit's server (plain or TLS, requests bounded in time: 408) behind service-kit's edge. */
function createHttp(opts: Options, logger: Logger, m: Modules): Http {
  const tlsPem = opts.tls ? readTls(opts.tls, { cert: 'http.tlsCert', key: 'http.tlsKey' }) : null
  let server: Server | null = null
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxJsonBytes,
    genReqId: (req) => requestId(req.headers['x-request-id']),
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
      ...(m.lag ? { lag: m.lag } : {}),
    },
  )
  // The hooks are in place when `register` returns; CORS loads with the app's other plugins.
  edge.register(app).catch((err: unknown) => logger.error({ err }, 'reserves edge: CORS failed to load'))
  return { app, edge, server: () => server }
}

/** The app-wide hooks, in the order the service always added them: rate limits, body parsers, metrics, tracing, compression, deprecations, errors. */
function registerAppHooks(app: FastifyInstance, opts: Options, m: Modules, k: Kernel, access: Access): void {
  const { logger } = m
  app.addHook('onRequest', access.chargeUnguarded)
  // CSV and NDJSON arrive as streams; the row reader consumes them line by line.
  for (const type of ['text/csv', 'application/x-ndjson', 'application/ndjson'])
    app.addContentTypeParser(type, (_req, payload, done) => done(null, payload))
  // requests by route pattern (never the raw URL: ids would explode the label set) and status
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched'
    const method = req.method
    k.metrics.requests.inc({ method, route, status: String(reply.statusCode) })
    k.metrics.requestSeconds.observe({ method, route }, reply.elapsedTime / 1000)
  })
  traceRequests(app, m.tracer ?? noopTracer)
  registerCompression(app, opts.compressMinBytes ?? 1024)
  registerDeprecations(app, DEPRECATED_ROUTES)
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = httpError(err)
    if (status >= 500) logger.error({ err, ...requestFields(req.id) }, 'reserves request failed')
    reply.code(status).send(body)
  })
}

interface Parts {
  k: Kernel
  access: Access
  webhooks: Webhooks
  reconciliation: Reconciliation
  builds: Builds
  compliance: Compliance
  hub: StreamHub
  health: HealthChecks
}

/** Every feature, each a Fastify plugin; the WebSocket stream; the probes and /metrics. */
function registerFeatures(app: FastifyInstance, opts: Options, m: Modules, p: Parts): void {
  const { sql, key, logger } = m
  const { k, access, webhooks, reconciliation, builds } = p
  const { guard, who } = access
  const { store, registry, clockMs } = k
  void app.register(snapshotRoutes, {
    sql,
    key,
    store,
    metrics: k.metrics,
    proofBody: k.proofBody,
    queue: builds.queue,
    jobs: k.jobs,
    defaultHash: opts.defaultHash,
    defaultMinDepth: opts.defaultMinDepth,
    maxSnapshotJsonBytes: opts.maxSnapshotJsonBytes,
    publish: k.publish,
    queued: (id: string) => builds.queue.queued(id),
    reconciliation: reconciliation.summary,
    guardProofs: p.compliance.guardProofs,
    guard,
    who,
  })
  const wakeHooks = () => webhooks.worker?.wake()
  void app.register(webhookRoutes, {
    sql,
    endpoints: webhooks.endpoints,
    deliveries: webhooks.deliveries,
    guard,
    who,
    wake: wakeHooks,
  })
  void app.register(historyRoutes, { store, proof: async (id, u) => (await k.proofBody(id, u)).body, guard, who })
  void app.register(ledgerRoutes, {
    store: m.ledger ?? new LedgerStore(sql, key),
    key,
    queue: builds.queue,
    registry,
    logger,
    defaultHash: opts.defaultHash,
    defaultMinDepth: opts.defaultMinDepth,
    clockMs,
    guard,
    who,
  })
  void app.register(backupRoutes, { sql, guard, who, registry, logger })
  void app.register(consoleRoutes, { guard, who })
  void app.register(complianceRoutes, {
    compliance: p.compliance,
    sql,
    key,
    store,
    reconciliation: reconciliation.summary,
    clockMs,
    guard,
    who,
  })
  const wakeReconciler = () => reconciliation.worker?.wake()
  void app.register(reconciliationRoutes, {
    sql,
    sources: reconciliation.sources,
    runs: reconciliation.runs,
    store,
    guard,
    who,
    wake: wakeReconciler,
  })
  void app.register(auditRoutes, { sql, guard })
  void app.register(pageRoutes, { docs: JSON.stringify(openApiDocument()) })
  // after every other route: @fastify/websocket wraps the handlers of the routes registered after it
  registerStream(app, { hub: p.hub, authenticate: access.authenticate })
  // Probes: /health answers while the process serves (never touches the database; exempt from
  // load shedding); /ready runs the checks and answers 503 naming the failing ones.
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async (_req, reply) => {
    const r = await p.health.run()
    return reply.code(r.status === 'ok' ? 200 : 503).send(r)
  })
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}

/**
 * Starts the workers. What a process that died left running is released first: with PGlite (one
 * process per datadir) builds, deliveries and runs are claimable at once (a delivery is sent again
 * with the same idempotency key); over PostgreSQL, once their lease runs out.
 */
function startWorkers(m: Modules, k: Kernel, p: Parts): Promise<void>[] {
  const { sql, logger } = m
  const { runner } = p.builds
  const worker = p.webhooks.worker
  const reconciler = p.reconciliation.worker
  const dispatch = m.buildDispatch
  const started = (async () => {
    if (!runner) return
    if (sql.driver === 'pglite') {
      const released = await k.jobs.releaseAll()
      if (released > 0) logger.warn({ released }, 'builds interrupted by a previous process: building them again')
    }
    runner.start()
    dispatch?.start(runner)
  })().catch((err: unknown) => logger.error({ err }, 'build runner failed to start'))
  const delivering = (async () => {
    if (!worker) return
    if (sql.driver === 'pglite') {
      const released = await p.webhooks.deliveries.releaseAll()
      if (released > 0) logger.warn({ released }, 'webhook deliveries interrupted by a previous process: sending again')
    }
    await worker.refreshBacklog(true)
    worker.start()
  })().catch((err: unknown) => logger.error({ err }, 'webhook worker failed to start'))
  const reconciling = (async () => {
    if (!reconciler) return
    if (sql.driver === 'pglite') {
      const released = await p.reconciliation.runs.releaseAll()
      if (released > 0)
        logger.warn({ released }, 'reconciliations interrupted by a previous process: running them again')
    }
    reconciler.start()
  })().catch((err: unknown) => logger.error({ err }, 'reconciliation worker failed to start'))
  return [started, delivering, reconciling]
}

/**
 * The reserves HTTP service: snapshots in, proofs out, with roles (admin, auditor, user), an
 * audit trail of every sensitive action, and the proof-checking page at `/`.
 */
export function createReservesService(opts: Options, m: Modules): ReservesService {
  const k = openKernel(opts, m)
  const webhooks = openWebhooks(opts, m, k)
  const reconciliation = openReconciliation(opts, m, k, webhooks)
  const http = createHttp(opts, m.logger, m)
  const hub = createStreamHub(k.store)
  const builds = openBuilds(opts, m, k)
  wireEvents(m, k, { webhooks, reconciliation, builds, hub })
  startRunner(opts, m, k, builds, reconciliation)
  const health = openHealth(opts, m, k)
  const access = createAccess(opts, {
    logger: m.logger,
    registry: k.registry,
    metrics: k.metrics,
    ...(m.rateLimitStore ? { rateLimitStore: m.rateLimitStore } : {}),
    ...(m.clockMs ? { clockMs: m.clockMs } : {}),
  })
  const { app } = http
  registerAppHooks(app, opts, m, k, access)
  const compliance = openCompliance(opts.compliance, {
    sql: m.sql,
    key: m.key,
    store: k.store,
    registry: k.registry,
    logger: m.logger,
    clockMs: k.clockMs,
  })
  const parts: Parts = { k, access, webhooks, reconciliation, builds, compliance, hub, health }
  registerFeatures(app, opts, m, parts)
  const starting = startWorkers(m, k, parts)
  return {
    app,
    store: k.store,
    proofCache: k.cache,
    registry: k.registry,
    opened: k.opened,
    idle: async () => {
      const { runner } = builds
      if (!runner) return
      while ((await k.jobs.pending()) > 0) {
        runner.wake()
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    jobs: k.jobs,
    health,
    webhooks,
    reconciliation: { sources: reconciliation.sources, runs: reconciliation.runs, worker: reconciliation.worker },
    rotateAuth: (next) => access.rotateAuth(next),
    reloadTls: () => {
      const server = http.server()
      if (!opts.tls || !server)
        throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the service does not serve TLS', { fault: 'caller' })
      reloadTls(server, opts.tls)
    },
    close: async () => {
      for (const s of starting) await s
      await reconciliation.worker?.stop()
      await webhooks.worker?.stop()
      await builds.runner?.stop()
      await m.buildDispatch?.stop()
      await app.close()
      http.edge.close()
      await k.cache.close()
      await compliance.close()
    },
  }
}
