// `cairn reserves serve`: the flags checked (serve-options.ts), the secrets read (serve-secrets.ts),
// tracing and the database opened, the backends the flags ask for (serve-backends.ts), the service
// made, listening; a rotated JWT secret or API key file is put in force as it changes, SIGHUP
// reloads the TLS files, SIGINT/SIGTERM (or the log reader gone) close everything in reverse.
import { createRequire } from 'node:module'
import { ReservesErrorCode } from '@cairn/reserves'
import { createLogger, createMetricsRegistry, createTracing, StopOnSignals, tracingFlags } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { createReservesService } from '../app.ts'
import { traceSql } from '../kernel/tracing.ts'
import { registerAuditCommand, registerBuildCommands } from './builds.ts'
import { openBackends } from './serve-backends.ts'
import { complianceOptions } from './serve-compliance-flags.ts'
import { type ServeFlags, serveCommand } from './serve-flags.ts'
import { checkServeFlags, serviceOptions, workerOptions } from './serve-options.ts'
import { openSecrets, readServeSecrets, watchAuthSecrets } from './serve-secrets.ts'
import { openStorage } from './storage.ts'

const PKG_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

/** Runs the service until a signal stops it. */
async function runServe(o: ServeFlags): Promise<void> {
  const stopper = new StopOnSignals()
  const logger = createLogger({ level: 'info', format: 'auto', onBrokenPipe: stopper.onBrokenPipe })
  const checked = checkServeFlags(o, logger)
  const w = workerOptions(o)
  const { builds, webhooks, reconciliation } = w
  const pollMs = Number(o['secrets.pollMs'])
  if (!Number.isInteger(pollMs) || pollMs < 10)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `--secrets.poll-ms must be a whole number ≥ 10, not ${o['secrets.pollMs']}`,
      {
        fault: 'caller',
      },
    )
  const secrets = openSecrets(o.ageIdentityFile, process.env, { logger, pollMs })
  const s = await readServeSecrets({ ...o, keyFile: checked.keyFile }, secrets)
  // the flags with their references resolved: URLs from here on
  const resolved: ServeFlags = {
    ...o,
    ...(s.databaseUrl ? { databaseUrl: s.databaseUrl } : {}),
    ...(s.redisUrl ? { redisUrl: s.redisUrl } : {}),
    ...(s.rateRedisUrl ? { 'rateLimit.redisUrl': s.rateRedisUrl } : {}),
  }
  const compliance = complianceOptions(o, s.reportKey)
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
  const sql = traceSql(await openStorage(resolved, s.databasePassword), tracing.tracer)
  const registry = createMetricsRegistry({ version: PKG_VERSION, commit: 'unknown' })
  const backends = await openBackends(
    resolved,
    {
      sql,
      logger,
      registry,
      key: s.key,
      rateRedis: s.rateRedisUrl ?? s.redisUrl,
      databasePassword: s.databasePassword,
      tracer: tracing.tracer,
    },
    w,
  )
  const { rateLimitStore, relay, ledgerNats, events, buildQueue, checks } = backends
  const svc = createReservesService(serviceOptions(resolved, s, w, compliance), {
    sql,
    key: s.key,
    logger,
    metrics: registry,
    tracer: tracing.tracer,
    checks,
    ...(rateLimitStore ? { rateLimitStore } : {}),
    ...(events ? { events } : {}),
    ...(buildQueue ? { buildDispatch: buildQueue } : {}),
  })
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
  // a rotated JWT secret or API key file (a mounted Kubernetes Secret, an age bundle) applies at
  // once; one that does not read or check cleanly is refused and the old one stays
  const watches = watchAuthSecrets(o, s, (next) => svc.rotateAuth(next))
  relay?.start()
  ledgerNats?.start()
  // SIGINT, SIGTERM, or the log output's reader gone (EPIPE): stops cleanly
  stopper.arm(logger, async () => {
    process.off('SIGHUP', onHup)
    for (const watch of watches) watch.stop()
    try {
      await svc.close()
    } finally {
      await backends.close()
      await sql.close()
      await tracing.shutdown()
    }
  })
}

/** `cairn reserves serve`, `cairn reserves builds …` and `cairn reserves audit verify`. */
export function registerServe(r: Command): void {
  serveCommand(r).action(runServe)
  registerBuildCommands(r)
  registerAuditCommand(r)
}
