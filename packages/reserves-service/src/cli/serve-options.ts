// `cairn reserves serve`'s flags turned into the service's options: checked first (every refusal
// names its flag), in the order the command always checked them.

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError, type Logger } from '@cairn/utils'
import { DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, type ReservesServiceOptions } from '../app-options.ts'
import type { ComplianceOptions } from '../features/compliance/options.ts'
import { DEFAULT_RECONCILIATION } from '../features/reconciliation/worker.ts'
import type { ServeFlags } from './serve-flags.ts'
import type { ServeSecrets } from './serve-secrets.ts'
import { devSecrets } from './storage.ts'

/** A comma-separated flag as a list (empty entries dropped). */
const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

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

/** What the flags' first checks yield: the at-rest key's reference, the rate-limit store's Redis (a reference or URL). */
export interface CheckedFlags {
  keyFile: string
  rateRedis: string | undefined
}

/**
 * Checks the flags that go together and fills in `--dev`'s secrets (generated into DATADIR/dev,
 * logged with how to mint a token); refuses a start without an at-rest key.
 */
export function checkServeFlags(o: ServeFlags, logger: Logger): CheckedFlags {
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
    throw new CairnError(ReservesErrorCode.KEY_INVALID, 'no at-rest key: user ids and salts are stored encrypted', {
      fault: 'caller',
      hint: 'give --key-file (create one with: openssl rand -hex 32 > reserves.key; chmod 600 reserves.key), or --dev to generate one',
    })
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
  return { keyFile: o.keyFile, rateRedis }
}

export type WorkerOptions = Required<
  Pick<ReservesServiceOptions, 'edge' | 'rateLimit' | 'builds' | 'webhooks' | 'reconciliation'>
>

/** The edge, rate limits, builds, webhook delivery and reconciliation, from their flags. */
export function workerOptions(o: ServeFlags): WorkerOptions {
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
  return { edge, rateLimit, builds, webhooks, reconciliation }
}

/** The service's options: the secrets read, the workers', the compliance ones, and the rest. */
export function serviceOptions(
  o: ServeFlags,
  s: Pick<ServeSecrets, 'jwtSecret' | 'apiKeys' | 'redisUrl'>,
  w: WorkerOptions,
  compliance: ComplianceOptions,
): ReservesServiceOptions {
  const { jwtSecret } = s
  const { edge, rateLimit, builds, webhooks, reconciliation } = w
  return {
    ...DEFAULT_SERVICE_OPTIONS,
    jwtSecret,
    jwks: o.jwksUrl
      ? { url: o.jwksUrl, issuer: o.jwtIssuer!, audience: o.jwtAudience!, roleClaim: o.jwtRoleClaim }
      : null,
    redisUrl: s.redisUrl ?? null,
    apiKeys: s.apiKeys,
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
  }
}
