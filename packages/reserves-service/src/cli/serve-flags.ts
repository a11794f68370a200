// The flags of `cairn reserves serve`, declared by domain (the compliance ones in
// serve-compliance-flags.ts), and what commander hands the action.
import type { Command } from 'commander'
import { DEFAULT_BUILDS } from '../app-options.ts'
import { DEFAULT_LEDGER_NATS } from '../features/ledger/nats-consumer.ts'
import { DEFAULT_RECONCILIATION } from '../features/reconciliation/worker.ts'
import { DEFAULT_NATS_RELAY } from '../features/webhooks/nats-relay.ts'
import { DEFAULT_WEBHOOKS } from '../features/webhooks/worker.ts'
import { DEFAULT_NATS_BUILDS } from '../jobs/nats-builds.ts'
import { type ComplianceFlags, complianceFlags } from './serve-compliance-flags.ts'
import type { StorageFlags } from './storage.ts'

const onOff = (v: string) => !['false', 'off', '0', 'no'].includes(v.toLowerCase())

/** What commander hands `serve`'s action (dotted flags keep their dots). */
export interface ServeFlags extends StorageFlags, ComplianceFlags {
  ageIdentityFile?: string
  databasePasswordFile?: string
  'secrets.pollMs': string
  otlpEndpoint?: string
  traceSampleRatio?: string
  keyFile?: string
  dev?: boolean
  jwtSecretFile?: string
  jwksUrl?: string
  jwtIssuer?: string
  jwtAudience?: string
  jwtRoleClaim: string
  jwtMaxLifetime: string
  jwtClockSkew: string
  redisUrl?: string
  apiKeysFile?: string
  'http.addr': string
  'http.port': string
  'http.vhosts': string
  'http.cors': string
  'http.tlsCert'?: string
  'http.tlsKey'?: string
  'http.maxConnectionsPerIp': string
  'http.maxConnections': string
  'http.firstByteTimeoutMs': string
  'http.requestTimeoutMs': string
  'http.shedLagMs': string
  'rateLimit.enabled': boolean
  'rateLimit.windowSeconds': string
  'rateLimit.perIp': string
  'rateLimit.perAdmin': string
  'rateLimit.perAuditor': string
  'rateLimit.perUser': string
  'rateLimit.store': string
  'rateLimit.redisUrl'?: string
  'rateLimit.onStoreError': string
  build: boolean
  'build.maxAttempts': string
  'build.leaseSeconds': string
  webhooks: boolean
  'webhooks.maxAttempts': string
  'webhooks.backoffBaseMs': string
  'webhooks.backoffMaxMs': string
  'webhooks.timeoutMs': string
  'webhooks.leaseSeconds': string
  'webhooks.pollMs': string
  'webhooks.concurrency': string
  reconcileInterval: string
  reconcile: boolean
  'reconcile.rpcTimeoutMs': string
  'events.natsUrl'?: string
  'events.natsStream': string
  'events.natsSubjectPrefix': string
  'ledger.natsSubject'?: string
  'ledger.natsUrl'?: string
  'ledger.natsStream': string
  'ledger.natsDurable': string
  'queue.natsUrl'?: string
  'queue.natsStream': string
  'queue.natsSubjectPrefix': string
  'queue.natsDurable': string
  'queue.natsAckWaitSeconds': string
  minDepth: string
}

/**
 * Storage, the at-rest key, bearer tokens, API keys, the shared proof cache. A secret flag takes a
 * path (owner-only), `env:NAME` or `age:FILE#NAME` (docs/operations/secrets.md).
 */
function storageAuthFlags(c: Command): Command {
  return c
    .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (instead of PGlite), or a secret holding it (env:NAME, age:FILE#NAME, a path)',
    )
    .option(
      '--database-password-file <file>',
      'PostgreSQL password (a path, env:NAME, age:FILE#NAME), read for every new connection: a rotated one applies without a restart',
    )
    .option('--age-identity-file <file>', 'age identity that opens age: secrets (default: $CAIRN_AGE_IDENTITY_FILE)')
    .option(
      '--secrets.poll-ms <ms>',
      'how often the JWT secret and API key files are read again for a rotation (a mounted Kubernetes Secret changes within ~1 min)',
      '5000',
    )
    .option(
      '--key-file <file>',
      'AES-256 key (64 hex) encrypting user ids and salts at rest (required unless --dev; a path, env:NAME or age:FILE#NAME)',
    )
    .option(
      '--dev',
      'development: generate the at-rest key and an HS256 JWT secret into DATADIR/dev (mode 0600) unless given, and print how to mint a token',
    )
    .option(
      '--jwt-secret-file <file>',
      'HS256 secret for bearer tokens (a path, env:NAME or age:FILE#NAME; a rotated one applies without a restart)',
    )
    .option('--jwks-url <url>', 'JWKS of an OAuth2/OIDC provider: RS256/ES256 bearer tokens')
    .option('--jwt-issuer <iss>', 'required iss of JWKS tokens (with --jwks-url)')
    .option('--jwt-audience <aud>', 'required aud of JWKS tokens (with --jwks-url)')
    .option('--jwt-role-claim <name>', 'the claim holding admin, auditor or user', 'role')
    .option(
      '--jwt-max-lifetime <seconds>',
      'longest bearer token accepted: exp − iat (identity providers: at most a day)',
      '86400',
    )
    .option('--jwt-clock-skew <seconds>', "how far a token's iat/nbf may lie ahead of this clock", '60')
    .option(
      '--api-keys-file <file>',
      'JSON [{"name","role","key"}] of service-to-service API keys (X-Api-Key; a path, env:NAME or age:FILE#NAME; rotated without a restart)',
    )
    .option('--redis-url <url>', 'redis://… proof cache shared by instances (default: memory only), or env:NAME')
}

/** The port: address, virtual hosts, CORS, TLS, connection caps, timeouts, load shedding. */
function httpFlags(c: Command): Command {
  return c
    .option('--http.addr <addr>', 'listen address', '127.0.0.1')
    .option('--http.port <port>', 'listen port', '8560')
    .option('--http.vhosts <names>', 'comma-separated Host names answered (* = any)', '*')
    .option('--http.cors <origins>', 'comma-separated origins allowed cross-origin (* = any; default none)', '')
    .option(
      '--http.tls-cert <file>',
      'PEM certificate chain: with --http.tls-key the port serves HTTPS and WSS (SIGHUP re-reads both)',
    )
    .option('--http.tls-key <file>', 'PEM private key of --http.tls-cert')
    .option(
      '--http.max-connections-per-ip <n>',
      'open connections one client IP (an IPv6 /64) may hold; 0 = no cap of its own (behind a proxy, keep 0)',
      '0',
    )
    .option('--http.max-connections <n>', 'open connections on the port in all; 0 = no limit', '0')
    .option(
      '--http.first-byte-timeout-ms <ms>',
      'close a connection that sends nothing for this long; 0 = never',
      '5000',
    )
    .option(
      '--http.request-timeout-ms <ms>',
      'longest a request (headers and body) may take to arrive; then 408',
      '300000',
    )
    .option(
      '--http.shed-lag-ms <ms>',
      'answer 503 + Retry-After (except /health) while the event loop lags more than this; 0 = off',
      '0',
    )
}

/** Rate limits per role and per IP, and where their windows live. */
function rateLimitFlags(c: Command): Command {
  return c
    .option('--rate-limit.enabled [on]', 'rate limits per role and per IP (default off)', onOff, false)
    .option('--rate-limit.window-seconds <s>', 'sliding window length', '60')
    .option('--rate-limit.per-ip <n>', 'weight per window from one IP without credentials', '600')
    .option('--rate-limit.per-admin <n>', 'weight per window of one admin', '6000')
    .option('--rate-limit.per-auditor <n>', 'weight per window of one auditor', '6000')
    .option('--rate-limit.per-user <n>', 'weight per window of one user', '600')
    .option('--rate-limit.store <store>', 'memory (this process) or redis (shared by every instance)', 'memory')
    .option(
      '--rate-limit.redis-url <url>',
      'redis://… of the shared store (--rate-limit.store redis; default --redis-url)',
    )
    .option('--rate-limit.on-store-error <policy>', 'when Redis fails: open (let through) or closed (503)', 'open')
}

/** Which workers run here (builds, webhooks, reconciliation) and their settings. */
function workerFlags(c: Command): Command {
  return c
    .option('--no-build', 'do not build snapshots here (an API instance; builds run on instances without this flag)')
    .option(
      '--build.max-attempts <n>',
      'attempts of a build before it fails for good',
      String(DEFAULT_BUILDS.maxAttempts),
    )
    .option(
      '--build.lease-seconds <s>',
      "a worker's hold on a build; a crashed worker's build is taken over after it",
      String(DEFAULT_BUILDS.leaseMs / 1000),
    )
    .option(
      '--no-webhooks',
      'do not deliver webhooks here (events are still recorded; instances without this flag deliver)',
    )
    .option(
      '--webhooks.max-attempts <n>',
      'attempts of one delivery before it goes to the dead-letter list',
      String(DEFAULT_WEBHOOKS.maxAttempts),
    )
    .option(
      '--webhooks.backoff-base-ms <ms>',
      'first retry delay (at most; half to all of it, doubled per attempt)',
      String(DEFAULT_WEBHOOKS.backoff.baseMs),
    )
    .option('--webhooks.backoff-max-ms <ms>', 'longest retry delay', String(DEFAULT_WEBHOOKS.backoff.maxMs))
    .option('--webhooks.timeout-ms <ms>', "longest wait for an endpoint's answer", String(DEFAULT_WEBHOOKS.timeoutMs))
    .option(
      '--webhooks.lease-seconds <s>',
      "a worker's hold on a delivery in flight; a crashed instance's deliveries are sent again after it (longer than the timeout)",
      String(DEFAULT_WEBHOOKS.leaseMs / 1000),
    )
    .option(
      '--webhooks.poll-ms <ms>',
      'how often an idle worker looks for due deliveries',
      String(DEFAULT_WEBHOOKS.pollMs),
    )
    .option('--webhooks.concurrency <n>', 'deliveries in flight at once', String(DEFAULT_WEBHOOKS.concurrency))
    .option(
      '--reconcile-interval <s>',
      'also reconcile assets against the newest snapshot every this many seconds (0: after each build and on request only)',
      '0',
    )
    .option(
      '--no-reconcile',
      'do not run reconciliations here (runs are still queued; instances without this flag run them)',
    )
    .option(
      '--reconcile.rpc-timeout-ms <ms>',
      "longest wait for a chain's JSON-RPC answer (then the run fails)",
      String(DEFAULT_RECONCILIATION.rpcTimeoutMs),
    )
}

/** NATS JetStream (events, the ledger, the build queue), the default depth, tracing. */
function queueFlags(c: Command): Command {
  return c
    .option(
      '--events.nats-url <url>',
      'nats://… : also publish every event to NATS JetStream (subjects <prefix>.<type>, Nats-Msg-Id = event id)',
    )
    .option('--events.nats-stream <name>', 'the JetStream stream (made when missing)', DEFAULT_NATS_RELAY.stream)
    .option('--events.nats-subject-prefix <prefix>', 'subject prefix', DEFAULT_NATS_RELAY.subjectPrefix)
    .option(
      '--ledger.nats-subject <subject>',
      'apply ledger batches from NATS JetStream: each message on this subject is one POST /v1/ledger/changes body, its Nats-Msg-Id the idempotency key',
    )
    .option('--ledger.nats-url <url>', 'nats://… of --ledger.nats-subject (default --events.nats-url)')
    .option(
      '--ledger.nats-stream <name>',
      'the JetStream stream holding the subject (made when missing)',
      DEFAULT_LEDGER_NATS.stream,
    )
    .option(
      '--ledger.nats-durable <name>',
      'the durable consumer (made when missing; instances sharing it apply each batch once, in order)',
      DEFAULT_LEDGER_NATS.durable,
    )
    .option(
      '--queue.nats-url <url>',
      'nats://… : dispatch snapshot builds over NATS JetStream (one worker per job) and send events to every instance over NATS',
    )
    .option(
      '--queue.nats-stream <name>',
      'the work-queue stream of build jobs (made when missing)',
      DEFAULT_NATS_BUILDS.stream,
    )
    .option(
      '--queue.nats-subject-prefix <prefix>',
      'subjects <prefix>.builds (jobs) and <prefix>.bus (events)',
      DEFAULT_NATS_BUILDS.subjectPrefix,
    )
    .option(
      '--queue.nats-durable <name>',
      'the durable consumer every worker shares (made when missing)',
      DEFAULT_NATS_BUILDS.durable,
    )
    .option(
      '--queue.nats-ack-wait-seconds <s>',
      "a job's message goes to another worker after this long unacknowledged (its worker died); set when the consumer is made",
      String(DEFAULT_NATS_BUILDS.ackWaitMs / 1000),
    )
    .option('--min-depth <n>', 'default minimum tree depth', '10')
    .option('--otlp-endpoint <url>', 'OpenTelemetry: send spans to this OTLP/HTTP traces URL (default: no tracing)')
    .option('--trace-sample-ratio <r>', 'the share of requests traced, 0 to 1', '1')
}

/** `cairn reserves serve` with its flags; the caller adds the action. */
export function serveCommand(r: Command): Command {
  const c = complianceFlags(r.command('serve')).description(
    'Run the reserves HTTP service (PGlite in --datadir, or PostgreSQL with --database-url)',
  )
  return queueFlags(workerFlags(rateLimitFlags(httpFlags(storageAuthFlags(c)))))
}
