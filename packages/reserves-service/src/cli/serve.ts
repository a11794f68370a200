import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import {
  createLogger,
  createMetricsRegistry,
  createTracing,
  type RateLimitStore,
  RedisRateLimitStore,
  readApiKeysFile,
  StopOnSignals,
  tracingFlags,
} from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { verifyAuditWithCheckpoint } from '../compliance/audit-checkpoint.ts'
import { type ComplianceFlags, complianceFlags, complianceOptions } from '../compliance/serve-flags.ts'
import { ReservesErrorCode } from '../errors.ts'
import { DEFAULT_LEDGER_NATS, LedgerNatsConsumer } from '../ledger/nats-consumer.ts'
import { DEFAULT_RECONCILIATION } from '../reconciliation/worker.ts'
import { createReservesService, DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS } from '../service/app.ts'
import { type AtRestKey, parseKeyFile } from '../service/at-rest.ts'
import { checkHmacSecret, RESERVES_ROLES } from '../service/auth.ts'
import { cancelBuild, retryBuild } from '../service/build-admin.ts'
import { type EventBus, PgEventBus } from '../service/events.ts'
import { BuildJobs } from '../service/jobs.ts'
import { migrate } from '../service/migrations.ts'
import { DEFAULT_NATS_BUILDS, NATS_FALLBACK_POLL_MS, NatsBuildQueue } from '../service/nats-builds.ts'
import type { Sql } from '../service/sql.ts'
import { openPostgres } from '../service/sql-pg.ts'
import { openPgliteThread } from '../service/sql-pglite.ts'
import { SnapshotStore } from '../service/store.ts'
import { traceSql } from '../service/tracing.ts'
import { DEFAULT_NATS_RELAY, NatsRelay } from '../webhooks/nats-relay.ts'
import { DEFAULT_WEBHOOKS } from '../webhooks/worker.ts'
import { readArgFile } from './read-arg-file.ts'

const PKG_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

interface StorageFlags {
  datadir: string
  databaseUrl?: string
}

/** The serve command's flags declared outside this file (the compliance ones). */
interface ServeFlags extends StorageFlags, ComplianceFlags {}

async function openStorage(o: StorageFlags): Promise<Sql> {
  if (!o.databaseUrl) mkdirSync(o.datadir, { recursive: true })
  // PGlite on its own thread: its statements never hold the serving thread's event loop
  const sql = o.databaseUrl ? await openPostgres(o.databaseUrl) : await openPgliteThread(join(o.datadir, 'pgdata'))
  await migrate(sql)
  return sql
}

function readKey(file: string): AtRestKey {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CairnError(ReservesErrorCode.KEY_INVALID, `cannot read the key file ${file}`, {
      fault: 'caller',
      cause: err,
      hint: 'create one with: openssl rand -hex 32 > reserves.key',
    })
  }
  return parseKeyFile(text)
}

/** A comma-separated flag as a list (empty entries dropped). */
const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

/**
 * `serve --dev`'s secrets: an at-rest key and an HS256 secret (32 random bytes each, hex) in
 * DATADIR/dev, created once with mode 0600 (exclusive create: an existing file is kept) and reused.
 */
export function devSecrets(datadir: string): { dir: string; keyFile: string; jwtSecretFile: string } {
  const dir = join(datadir, 'dev')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyFile = join(dir, 'at-rest.key')
  const jwtSecretFile = join(dir, 'jwt.secret')
  for (const file of [keyFile, jwtSecretFile]) {
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return { dir, keyFile, jwtSecretFile }
}

/** A whole-number flag value, or a clear refusal naming the flag. */
function int(flag: string, text: string, min = 0): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `${flag} must be a whole number ≥ ${min}, not ${JSON.stringify(text)}`,
      {
        fault: 'caller',
      },
    )
  return n
}

const onOff = (v: string) => !['false', 'off', '0', 'no'].includes(v.toLowerCase())

/** `cairn reserves serve`, `cairn reserves builds …` and `cairn reserves audit verify`. */
export function registerServe(r: Command): void {
  complianceFlags(r.command('serve'))
    .description('Run the reserves HTTP service (PGlite in --datadir, or PostgreSQL with --database-url)')
    .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
    .option('--database-url <url>', 'PostgreSQL connection string (instead of PGlite)')
    .option('--key-file <file>', 'AES-256 key (64 hex) encrypting user ids and salts at rest (required unless --dev)')
    .option(
      '--dev',
      'development: generate the at-rest key and an HS256 JWT secret into DATADIR/dev (mode 0600) unless given, and print how to mint a token',
    )
    .option('--jwt-secret-file <file>', 'HS256 secret for bearer tokens')
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
    .option('--api-keys-file <file>', 'JSON [{"name","role","key"}] of service-to-service API keys (X-Api-Key)')
    .option('--redis-url <url>', 'redis://… proof cache shared by instances (default: memory only)')
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
    .action(
      async (
        o: ServeFlags & {
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
        },
      ) => {
        const stopper = new StopOnSignals()
        const logger = createLogger({ level: 'info', format: 'auto', onBrokenPipe: stopper.onBrokenPipe })
        if (o.jwksUrl && (!o.jwtIssuer || !o.jwtAudience))
          throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--jwks-url needs --jwt-issuer and --jwt-audience', {
            fault: 'caller',
            hint: "use your identity provider's issuer URL and the audience it puts in tokens for this service",
          })
        if (o.dev) {
          const dev = devSecrets(o.datadir)
          o.keyFile ??= dev.keyFile
          if (!o.jwtSecretFile && !o.jwksUrl) o.jwtSecretFile = dev.jwtSecretFile
          logger.warn(
            { keyFile: o.keyFile, jwtSecretFile: o.jwtSecretFile },
            `dev mode: secrets in ${dev.dir} (never use them for real users). Mint a token: cairn reserves token --role admin --sub me --secret-file ${o.jwtSecretFile}`,
          )
        }
        if (!o.keyFile)
          throw new CairnError(
            ReservesErrorCode.KEY_INVALID,
            'no at-rest key: user ids and salts are stored encrypted',
            {
              fault: 'caller',
              hint: 'give --key-file (create one with: openssl rand -hex 32 > reserves.key; chmod 600 reserves.key), or --dev to generate one',
            },
          )
        const jwtSecret = o.jwtSecretFile ? new Uint8Array(readArgFile('--jwt-secret-file', o.jwtSecretFile)) : null
        checkHmacSecret(jwtSecret, `--jwt-secret-file ${o.jwtSecretFile}`)
        if ((o['http.tlsCert'] === undefined) !== (o['http.tlsKey'] === undefined))
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            '--http.tls-cert and --http.tls-key go together (both, or neither)',
            {
              fault: 'caller',
            },
          )
        if (!['memory', 'redis'].includes(o['rateLimit.store']))
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            `--rate-limit.store is memory or redis, not ${o['rateLimit.store']}`,
            {
              fault: 'caller',
            },
          )
        if (!['open', 'closed'].includes(o['rateLimit.onStoreError']))
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            `--rate-limit.on-store-error is open or closed, not ${o['rateLimit.onStoreError']}`,
            {
              fault: 'caller',
            },
          )
        const rateRedis = o['rateLimit.redisUrl'] ?? o.redisUrl
        if (o['rateLimit.store'] === 'redis' && !rateRedis)
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            '--rate-limit.store redis needs --rate-limit.redis-url (or --redis-url)',
            {
              fault: 'caller',
            },
          )
        const edge = {
          vhosts: list(o['http.vhosts']),
          cors: list(o['http.cors']),
          maxConnectionsPerIp: int('--http.max-connections-per-ip', o['http.maxConnectionsPerIp']),
          maxConnections: int('--http.max-connections', o['http.maxConnections']),
          firstByteTimeoutMs: int('--http.first-byte-timeout-ms', o['http.firstByteTimeoutMs']),
          shedLagMs: int('--http.shed-lag-ms', o['http.shedLagMs']),
        }
        const rateLimit = {
          enabled: o['rateLimit.enabled'],
          windowMs: int('--rate-limit.window-seconds', o['rateLimit.windowSeconds'], 1) * 1000,
          perIp: int('--rate-limit.per-ip', o['rateLimit.perIp'], 1),
          perRole: {
            admin: int('--rate-limit.per-admin', o['rateLimit.perAdmin'], 1),
            auditor: int('--rate-limit.per-auditor', o['rateLimit.perAuditor'], 1),
            user: int('--rate-limit.per-user', o['rateLimit.perUser'], 1),
          },
          onStoreError: o['rateLimit.onStoreError'] as 'open' | 'closed',
        }
        const builds = {
          ...DEFAULT_BUILDS,
          run: o.build,
          maxAttempts: int('--build.max-attempts', o['build.maxAttempts'], 1),
          leaseMs: Math.round(Number(o['build.leaseSeconds']) * 1000),
        }
        if (!(builds.leaseMs >= 200))
          throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--build.lease-seconds must be at least 0.2', {
            fault: 'caller',
          })
        const webhooks = {
          deliver: o.webhooks,
          maxAttempts: int('--webhooks.max-attempts', o['webhooks.maxAttempts'], 1),
          backoff: {
            baseMs: int('--webhooks.backoff-base-ms', o['webhooks.backoffBaseMs'], 1),
            maxMs: int('--webhooks.backoff-max-ms', o['webhooks.backoffMaxMs'], 1),
          },
          timeoutMs: int('--webhooks.timeout-ms', o['webhooks.timeoutMs'], 100),
          leaseMs: Math.round(Number(o['webhooks.leaseSeconds']) * 1000),
          pollMs: int('--webhooks.poll-ms', o['webhooks.pollMs'], 10),
          concurrency: int('--webhooks.concurrency', o['webhooks.concurrency'], 1),
        }
        if (!(webhooks.leaseMs > webhooks.timeoutMs))
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            `--webhooks.lease-seconds (${o['webhooks.leaseSeconds']}) must be longer than --webhooks.timeout-ms (${webhooks.timeoutMs} ms)`,
            {
              fault: 'caller',
              hint: 'a delivery still waiting for its answer must not be handed to another worker',
            },
          )
        const reconciliation = {
          ...DEFAULT_RECONCILIATION,
          run: o.reconcile,
          intervalMs: Math.round(Number(o.reconcileInterval) * 1000),
          rpcTimeoutMs: int('--reconcile.rpc-timeout-ms', o['reconcile.rpcTimeoutMs'], 100),
        }
        if (!(reconciliation.intervalMs === 0 || reconciliation.intervalMs >= 1000))
          throw new CairnError(
            ReservesErrorCode.BAD_OPTIONS,
            `--reconcile-interval is 0 or at least 1 (seconds), not ${o.reconcileInterval}`,
            { fault: 'caller' },
          )
        const compliance = complianceOptions(o)
        const traced = tracingFlags(o)
        const tracing = await createTracing(
          {
            enabled: traced !== null,
            otlpEndpoint: traced?.otlpEndpoint ?? '',
            sampleRatio: traced?.sampleRatio ?? 1,
            serviceName: 'cairn-reserves',
            version: PKG_VERSION,
          },
          { logger },
        )
        const sql = traceSql(await openStorage(o), tracing.tracer)
        const keyFile = o.keyFile
        const registry = createMetricsRegistry({ version: PKG_VERSION, commit: 'unknown' })
        let rateLimitStore: RateLimitStore | undefined
        const checks: Record<string, () => Promise<void>> = {}
        if (o['rateLimit.store'] === 'redis' && rateRedis) {
          const rl = new RedisRateLimitStore({ url: rateRedis }, { logger, registry })
          await rl.open()
          rateLimitStore = rl
        }
        let relay: NatsRelay | null = null
        if (o['events.natsUrl']) {
          relay = await NatsRelay.open(
            {
              servers: o['events.natsUrl'],
              stream: o['events.natsStream'],
              subjectPrefix: o['events.natsSubjectPrefix'],
            },
            { sql, logger, registry },
          )
          const r = relay
          checks.nats = () => r.check()
        }
        let ledgerNats: LedgerNatsConsumer | null = null
        if (o['ledger.natsSubject']) {
          const servers = o['ledger.natsUrl'] ?? o['events.natsUrl']
          if (!servers)
            throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--ledger.nats-subject needs a NATS server', {
              fault: 'caller',
              hint: 'give --ledger.nats-url nats://host:4222 (or --events.nats-url)',
            })
          ledgerNats = await LedgerNatsConsumer.open(
            {
              servers,
              subject: o['ledger.natsSubject'],
              stream: o['ledger.natsStream'],
              durable: o['ledger.natsDurable'],
            },
            { sql, key: readKey(keyFile), logger, registry },
          )
          const l = ledgerNats
          checks['ledger-nats'] = () => l.check()
        }
        let events: EventBus | undefined
        let buildQueue: NatsBuildQueue | null = null
        if (o['queue.natsUrl']) {
          const ackWaitMs = Math.round(Number(o['queue.natsAckWaitSeconds']) * 1000)
          if (!(ackWaitMs >= 1000))
            throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--queue.nats-ack-wait-seconds must be at least 1', {
              fault: 'caller',
            })
          const q = await NatsBuildQueue.open(
            {
              servers: o['queue.natsUrl'],
              stream: o['queue.natsStream'],
              subjectPrefix: o['queue.natsSubjectPrefix'],
              durable: o['queue.natsDurable'],
              ackWaitMs,
            },
            { jobs: new BuildJobs(sql), logger, registry },
          )
          buildQueue = q
          checks['queue-nats'] = () => q.check()
          // the queue hands out jobs; polling the table is only the fallback for a lost message
          builds.pollMs = NATS_FALLBACK_POLL_MS
          events = q.eventBus()
        } else if (o.databaseUrl) {
          const bus = new PgEventBus({ url: o.databaseUrl }, { logger })
          await bus.open()
          events = bus
        }
        const svc = createReservesService(
          {
            ...DEFAULT_SERVICE_OPTIONS,
            jwtSecret,
            jwks: o.jwksUrl
              ? { url: o.jwksUrl, issuer: o.jwtIssuer!, audience: o.jwtAudience!, roleClaim: o.jwtRoleClaim }
              : null,
            redisUrl: o.redisUrl ?? null,
            apiKeys: o.apiKeysFile ? readApiKeysFile(o.apiKeysFile, RESERVES_ROLES) : [],
            tokenTimes: {
              maxLifetimeSeconds: int('--jwt-max-lifetime', o.jwtMaxLifetime, 1),
              clockSkewSeconds: int('--jwt-clock-skew', o.jwtClockSkew, 0),
            },
            defaultMinDepth: Number(o.minDepth),
            edge,
            tls: o['http.tlsCert'] && o['http.tlsKey'] ? { cert: o['http.tlsCert'], key: o['http.tlsKey'] } : null,
            requestTimeoutMs: int('--http.request-timeout-ms', o['http.requestTimeoutMs'], 100),
            rateLimit,
            builds,
            webhooks,
            reconciliation,
            compliance,
          },
          {
            sql,
            key: readKey(keyFile),
            logger,
            metrics: registry,
            tracer: tracing.tracer,
            checks,
            ...(rateLimitStore ? { rateLimitStore } : {}),
            ...(events ? { events } : {}),
            ...(buildQueue ? { buildDispatch: buildQueue } : {}),
          },
        )
        const listened = await svc.app.listen({ host: o['http.addr'], port: Number(o['http.port']) })
        // Fastify names the scheme from its own https option; the TLS server here is service-kit's
        const addr = o['http.tlsCert'] ? listened.replace(/^http:/, 'https:') : listened
        logger.info(
          {
            addr,
            storage: sql.driver,
            builds: builds.run,
            webhooks: webhooks.deliver,
            reconcile: reconciliation.run ? reconciliation.intervalMs / 1000 || 'after builds' : false,
            tls: Boolean(o['http.tlsCert']),
          },
          'reserves service listening',
        )
        // SIGHUP: re-read the TLS files (a renewed certificate) without a restart
        const onHup = () => {
          if (!o['http.tlsCert']) return logger.info('SIGHUP: no TLS files to reload')
          try {
            svc.reloadTls()
            logger.info('SIGHUP: TLS certificate reloaded')
          } catch (err) {
            logger.error({ err }, 'SIGHUP: TLS reload refused; the old certificate stays')
          }
        }
        process.on('SIGHUP', onHup)
        relay?.start()
        ledgerNats?.start()
        // SIGINT, SIGTERM, or the log output's reader gone (EPIPE): stops cleanly
        stopper.arm(logger, async () => {
          process.off('SIGHUP', onHup)
          try {
            await svc.close()
          } finally {
            await ledgerNats?.stop().catch(() => {})
            await relay?.stop().catch(() => {})
            await events?.close()
            await buildQueue?.close().catch(() => {})
            await (rateLimitStore as RedisRateLimitStore | undefined)?.close?.()
            await sql.close()
            await tracing.shutdown()
          }
        })
      },
    )

  const b = r
    .command('builds')
    .description(
      'The snapshot build queue, straight on the database (stop a PGlite service first; or use GET /v1/builds)',
    )
  const storage = (c: Command) =>
    c
      .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
      .option('--database-url <url>', 'PostgreSQL connection string')
  storage(
    b
      .command('list')
      .description('Builds not done (queued, running — with their worker and lease —, failed, cancelled)'),
  )
    .option('--all', 'done ones too')
    .option('--json', 'JSON instead of a table')
    .action(async (o: StorageFlags & { all?: boolean; json?: boolean }) => {
      const sql = await openStorage(o)
      try {
        const items = await new BuildJobs(sql).list(Boolean(o.all), 1000)
        if (o.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`)
        if (items.length === 0) return void process.stdout.write('no builds\n')
        for (const j of items)
          process.stdout.write(
            `${j.snapshotId}\t${j.state}${j.stale ? ' (stale: its worker is gone)' : ''}\tattempts ${j.attempts}/${j.maxAttempts}` +
              `${j.leaseOwner ? `\tworker ${j.leaseOwner} until ${j.leaseUntil}` : ''}${j.lastError ? `\t${j.lastError}` : ''}\n`,
          )
      } finally {
        await sql.close()
      }
    })
  storage(
    b
      .command('cancel <snapshot>')
      .description('Stop a queued or running build: its rows removed, the snapshot failed, its id free again'),
  )
    .option('--by <name>', 'who cancels (the audit entry)', 'cli')
    .action(async (id: string, o: StorageFlags & { by: string }) => {
      const sql = await openStorage(o)
      try {
        const key = { id: 'cli', key: new Uint8Array(32) } // rows are removed, never read: no key needed
        const j = await cancelBuild({ sql, jobs: new BuildJobs(sql), store: new SnapshotStore(sql, key) }, id, {
          sub: o.by,
          role: 'admin',
        })
        process.stdout.write(`cancelled: ${j.snapshotId} (${j.state})\n`)
      } finally {
        await sql.close()
      }
    })
  storage(b.command('retry <snapshot>').description('Queue a failed or cancelled build again from its stored input'))
    .option('--by <name>', 'who retries (the audit entry)', 'cli')
    .action(async (id: string, o: StorageFlags & { by: string }) => {
      const sql = await openStorage(o)
      try {
        const j = await retryBuild({ sql, jobs: new BuildJobs(sql) }, id, { sub: o.by, role: 'admin' })
        process.stdout.write(`queued again: ${j.snapshotId}\n`)
      } finally {
        await sql.close()
      }
    })

  r.command('audit')
    .description('Audit log tools')
    .command('verify')
    .description('Check the hash chain of the audit log (detects edited or deleted rows)')
    .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
    .option('--database-url <url>', 'PostgreSQL connection string')
    .option('--head <hash>', 'the head hash recorded earlier (detects deleted newest rows)')
    .action(async (o: StorageFlags & { head?: string }) => {
      const sql = await openStorage(o)
      try {
        const r = await verifyAuditWithCheckpoint(sql, o.head)
        if (!r.ok)
          throw new CairnError(
            ReservesErrorCode.AUDIT_BROKEN,
            `the audit log is broken at entry ${r.seq}: ${r.reason}`,
            {
              fault: 'caller',
            },
          )
        process.stdout.write(`OK: ${r.count} entries, head ${r.head}\n`)
      } finally {
        await sql.close()
      }
    })
}
