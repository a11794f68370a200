// The reserves service's options, the modules it is given, its defaults, and what it hands back
// (app.ts builds it).
import type { CspDirectives, HealthChecks, LagSource, RateLimitStore, TlsFiles, Tracer } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { ComplianceOptions } from './features/compliance/options.ts'
import type { LedgerStore } from './features/ledger/store.ts'
import type { ReconciliationRuns } from './features/reconciliation/runs.ts'
import type { AssetSources } from './features/reconciliation/sources.ts'
import type { ReconciliationOptions, ReconciliationWorker } from './features/reconciliation/worker.ts'
import type { Deliveries } from './features/webhooks/deliveries.ts'
import type { WebhookEndpoints } from './features/webhooks/endpoints.ts'
import type { WebhookDeliveryOptions, WebhookWorker } from './features/webhooks/worker.ts'
import { DEFAULT_RUNNER } from './jobs/build-runner.ts'
import type { BuildJobs } from './jobs/jobs.ts'
import type { BuildDispatch } from './jobs/nats-builds.ts'
import type { AtRestKey } from './kernel/at-rest.ts'
import type { ApiKey } from './kernel/auth.ts'
import type { AuthRotation, JwksOptions } from './kernel/authenticator.ts'
import type { EventBus } from './kernel/events.ts'
import type { ProofCache } from './kernel/proof-cache.ts'
import type { ReservesRateLimitOptions } from './kernel/rate-limit.ts'
import type { Sql } from './kernel/sql.ts'
import type { SnapshotStore } from './kernel/store.ts'
import type { TokenTimeLimits } from './kernel/token-times.ts'

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
  /**
   * Puts a rotated JWT secret and/or API key list in force without a restart (`serve` watches the
   * secrets it read): tokens under the old secret and the old keys are refused from the next request.
   */
  rotateAuth(next: AuthRotation): void
  close(): Promise<void>
}
