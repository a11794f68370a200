// `cairn arb …`: deploy the executor, start the service, mint a token. Only this module reads flags
// and files; the service takes plain options. What a command needs beyond commander and zod (the
// service and its server, database and queue clients, viem, the contract) is imported when the
// command runs, not when the `cairn` program is built: every `cairn` command registers this one.

import { availableParallelism, hostname } from 'node:os'
// Light on purpose (utils only): flags are checked before the service is imported.
import { EXTERNAL_KEY_OPTIONS, type ExternalKeyFlags, externalKeySource } from '@cairn/keys'
import { tracingFlags as parseTracingFlags } from '@cairn/service-kit/tracing-flags'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { z } from 'zod'
import { ArbErrorCode } from '../errors.ts'
import type { Funding } from '../execution/executor.ts'
import type { KeySource } from '../execution/signer.ts'
import type { Address } from '../graph/token-graph.ts'
import type { FactoryConfig } from '../pools/tracker.ts'
import type { Role } from '../service/auth.ts'

const bad = (message: string, hint?: string) =>
  new CairnError(ArbErrorCode.CONFIG, message, { fault: 'caller', ...(hint ? { hint } : {}) })

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** `--factory ADDR[:FEE_BPS[:FROM_BLOCK]]` (fee default 30 bps = Uniswap V2's 997/1000). */
export function parseFactory(text: string): FactoryConfig {
  const [addr, bps, from] = text.split(':')
  if (!addr || !ADDRESS.test(addr))
    throw bad(`bad --factory ${text}`, 'ADDRESS[:FEE_BPS[:FROM_BLOCK]], e.g. 0x5C69…:30:10000835')
  const fee = bps === undefined ? 30 : Number(bps)
  if (!Number.isInteger(fee) || fee < 0 || fee >= 10_000) throw bad(`bad fee in --factory ${text}`)
  return {
    address: addr as Address,
    fee: { num: BigInt(10_000 - fee), den: 10_000n },
    ...(from !== undefined ? { fromBlock: BigInt(from) } : {}),
  }
}

/**
 * The secrets of `cairn arb`: a flag's value is a path (owner-only, refused otherwise), `env:NAME`,
 * or `age:FILE#NAME` (an age-encrypted bundle; identity from --age-identity-file or
 * CAIRN_AGE_IDENTITY_FILE). See docs/operations/secrets.md.
 */
async function openSecrets(ageIdentityFile: string | undefined) {
  const { Secrets } = await import('@cairn/service-kit')
  const identity = ageIdentityFile ?? process.env.CAIRN_AGE_IDENTITY_FILE
  return new Secrets({ env: process.env, ageIdentityFiles: identity ? [identity] : [] })
}

const list = (t: string) =>
  t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

interface StartFlags extends KeyFlags {
  rpc: string
  ws?: string
  databaseUrl?: string
  datadir: string
  executor: string
  base: string
  factory: string[]
  maxHops: string
  funding: string
  searchThreads: string
  pollMs: string
  killFile?: string
  jwtSecretFile?: string
  apiKeysFile?: string
  ageIdentityFile?: string
  jwksUrl?: string
  jwtIssuer?: string
  jwtAudience?: string
  jwtRoleClaim: string
  rateLimit: boolean
  'rateLimit.windowMs': string
  'rateLimit.perIp': string
  'rateLimit.perPrincipal': string
  'rateLimit.redisUrl'?: string
  'rateLimit.onStoreError': string
  queue: string
  natsUrl: string
  natsStream: string
  natsSubject: string
  role: string
  executorId?: string
  standby?: boolean
  retentionDays: string
  replaceAfterMs: string
  stuckTimeoutMs: string
  breakerCooldownMs: string
  logLevel: string
  otlpEndpoint?: string
  traceSampleRatio: string
  'http.addr': string
  'http.port': string
  'http.vhosts': string
  'http.cors': string
}

/** The API security flags as the raw object {@link parseApiSecurity} validates. */
export function apiSecurityFlags(o: {
  jwksUrl?: string
  jwtIssuer?: string
  jwtAudience?: string
  jwtRoleClaim?: string
  rateLimit?: boolean
  'rateLimit.windowMs'?: string
  'rateLimit.perIp'?: string
  'rateLimit.perPrincipal'?: string
  'rateLimit.redisUrl'?: string
  'rateLimit.onStoreError'?: string
}): unknown {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  if (!o.jwksUrl && (o.jwtIssuer || o.jwtAudience)) throw bad('--jwt-issuer and --jwt-audience need --jwks-url')
  return {
    jwks: o.jwksUrl
      ? {
          url: o.jwksUrl,
          issuer: o.jwtIssuer ?? '',
          audience: o.jwtAudience ?? '',
          ...(o.jwtRoleClaim ? { roleClaim: o.jwtRoleClaim } : {}),
        }
      : null,
    rateLimit: {
      enabled: o.rateLimit !== false,
      ...(o['rateLimit.windowMs'] !== undefined ? { windowMs: num(o['rateLimit.windowMs']) } : {}),
      ...(o['rateLimit.perIp'] !== undefined ? { perIp: num(o['rateLimit.perIp']) } : {}),
      ...(o['rateLimit.perPrincipal'] !== undefined ? { perPrincipal: num(o['rateLimit.perPrincipal']) } : {}),
      ...(o['rateLimit.onStoreError'] !== undefined ? { onStoreError: o['rateLimit.onStoreError'] } : {}),
      redisUrl: o['rateLimit.redisUrl'] ?? null,
    },
  }
}

/**
 * A suggested `--search-threads` for this machine: one per core but the main thread's, at most 4.
 * Not the default (0): on a busy 2-core machine the worker share made blocks slower, not faster
 * (packages/arbitrage/README.md, Figures); set it where cores are free.
 */
export function suggestedSearchThreads(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1))
}

/** `--max-hops` / `--search-threads`, validated. */
export function searchFlags(o: { maxHops: string; searchThreads: string }): { maxHops: number; searchThreads: number } {
  const whole = (min: number, max: number, error: string) =>
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error })
  const r = z
    .object({
      maxHops: whole(2, 4, `--max-hops must be a whole number from 2 to 4 (gas grows per hop), got ${o.maxHops}`),
      searchThreads: whole(0, 64, `--search-threads must be a whole number from 0 to 64, got ${o.searchThreads}`),
    })
    .safeParse({ maxHops: Number(o.maxHops), searchThreads: Number(o.searchThreads) })
  if (!r.success) throw bad(r.error.issues.map((i) => i.message).join('; '))
  return r.data
}

/** `--replace-after-ms` / `--stuck-timeout-ms` / `--breaker-cooldown-ms`, validated. */
export function tradeWaitFlags(o: { replaceAfterMs: string; stuckTimeoutMs: string; breakerCooldownMs?: string }): {
  replaceAfterMs: number
  stuckTimeoutMs: number
  breakerCooldownMs: number
} {
  const ms = (min: number, error: string) =>
    z.number({ error }).int({ error }).min(min, { error }).max(86_400_000, { error })
  const r = z
    .object({
      replaceAfterMs: ms(
        0,
        `--replace-after-ms must be whole milliseconds from 0 (never) to a day, got ${o.replaceAfterMs}`,
      ),
      stuckTimeoutMs: ms(1, `--stuck-timeout-ms must be whole milliseconds from 1 to a day, got ${o.stuckTimeoutMs}`),
      breakerCooldownMs: ms(
        1_000,
        `--breaker-cooldown-ms must be whole milliseconds from 1000 to a day, got ${String(o.breakerCooldownMs).slice(0, 40)}`,
      ),
    })
    .safeParse({
      replaceAfterMs: Number(o.replaceAfterMs),
      stuckTimeoutMs: Number(o.stuckTimeoutMs),
      breakerCooldownMs: Number(o.breakerCooldownMs ?? 60_000),
    })
  if (!r.success) throw bad(r.error.issues.map((i) => i.message).join('; '))
  if (r.data.replaceAfterMs >= r.data.stuckTimeoutMs) {
    throw bad(
      `--replace-after-ms (${r.data.replaceAfterMs}) must be below --stuck-timeout-ms (${r.data.stuckTimeoutMs})`,
      'a trade is replaced before it is given up as stuck',
    )
  }
  return r.data
}

/** `--nats-url` / `--nats-stream` / `--nats-subject`, validated (JetStream's rules for names). */
export function natsFlags(o: { natsUrl: string; natsStream: string; natsSubject: string }): {
  servers: string
  stream: string
  subject: string
} {
  const r = z
    .object({
      servers: z.string().min(1, { error: '--nats-url is empty' }),
      stream: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
        error: `--nats-stream must be 1-64 letters, digits, _ or -, got ${JSON.stringify(o.natsStream)}`,
      }),
      subject: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, {
        error: `--nats-subject must be dot-separated tokens of letters, digits, _ or - (no wildcards), got ${JSON.stringify(o.natsSubject)}`,
      }),
    })
    .safeParse({ servers: o.natsUrl, stream: o.natsStream, subject: o.natsSubject })
  if (!r.success) throw bad(r.error.issues.map((i) => i.message).join('; '))
  return r.data
}

/** `--otlp-endpoint` / `--trace-sample-ratio`, validated (service-kit's); null without an endpoint. */
export function tracingFlags(o: {
  otlpEndpoint?: string
  traceSampleRatio?: string
}): { otlpEndpoint: string; sampleRatio: number } | null {
  try {
    return parseTracingFlags(o)
  } catch (err) {
    throw bad((err as Error).message)
  }
}

/** `--funding`, validated. */
export function fundingFlag(v: string): Funding {
  if (v === 'flash' || v === 'capital' || v === 'auto') return v
  throw bad(
    `bad --funding ${v}`,
    "flash (borrow each trade's input from its last pair), capital (the executor's own balance of the base token) or auto (capital when it covers the input)",
  )
}

export interface KeyFlags extends ExternalKeyFlags {
  keystore?: string
  passwordFile?: string
  keyFile?: string
}

const KEY_SOURCES =
  'give the signing key as --keystore FILE --password-file FILE, --key-file FILE (a mounted secret), --hsm-key LABEL with --hsm-module, --hsm-token and --hsm-pin-file (a key on a PKCS#11 token), or --remote-signer URL with --remote-signer-ca, --remote-signer-cert and --remote-signer-key'

export function keySource(o: KeyFlags): KeySource {
  const local = o.keystore ? '--keystore' : o.keyFile ? '--key-file' : null
  const external = externalKeySource(o, local, KEY_SOURCES)
  if (external) return external
  if (o.keyFile && !o.keystore) return { keyFile: o.keyFile }
  if (o.keystore && o.passwordFile && !o.keyFile) return { keystore: o.keystore, passwordFile: o.passwordFile }
  throw bad(KEY_SOURCES)
}

/** The signing key's flags, the same on every command that signs. */
function keyOptions(c: Command, keyFile: string): Command {
  c.option('--keystore <file>', 'Web3 Secret Storage v3 keystore of the signing account')
    .option('--password-file <file>', "the keystore's password")
    .option('--key-file <file>', keyFile)
  for (const [flag, help] of EXTERNAL_KEY_OPTIONS) c.option(flag, help)
  return c
}

export function registerArb(program: Command): void {
  const arb = program.command('arb').description('DEX arbitrage: the engine and its service')
  keyOptions(
    arb
      .command('deploy')
      .description('Deploy ArbExecutor, owned by the signing account (the one `cairn arb start` will sign with)')
      .requiredOption('--rpc <url>', "the chain's JSON-RPC (http or ws)"),
    'a hex private key in a file, instead of a keystore',
  )
    .option(
      '--fund <amount>',
      'then send this much of --base (whole base units, e.g. 10^18 per token) to it: capital for --funding capital|auto',
    )
    .option('--base <address>', 'the base token to fund it with (with --fund)')
    .action(
      async (
        o: KeyFlags & {
          rpc: string
          fund?: string
          base?: string
        },
      ) => {
        if (o.fund !== undefined && (!o.base || !ADDRESS.test(o.base)))
          throw bad('--fund needs --base ADDRESS (the token to send)')
        if (o.fund !== undefined && !/^[0-9]+$/.test(o.fund))
          throw bad(`bad --fund ${o.fund}`, 'a whole number of base units')
        const { deployExecutor } = await import('./deploy.ts')
        const r = await deployExecutor({
          rpc: o.rpc,
          key: keySource(o),
          ...(o.fund !== undefined ? { fund: { token: o.base as Address, amount: BigInt(o.fund) } } : {}),
        })
        process.stdout.write(`ArbExecutor ${r.address} (owner ${r.owner}, tx ${r.tx}, block ${r.block})\n`)
        if (r.funded) process.stdout.write(`funded with ${o.fund} of ${o.base} (tx ${r.funded})\n`)
      },
    )
  keyOptions(
    arb
      .command('start')
      .description('Run the arbitrage service: watch pools over JSON-RPC, trade through ArbExecutor, serve the API')
      .requiredOption('--rpc <url>', "the chain's JSON-RPC (http, or ws: then also the subscription)")
      .option('--ws <url>', 'WebSocket JSON-RPC: eth_subscribe new heads and pool logs (polling while it is down)')
      .option(
        '--database-url <url>',
        'PostgreSQL connection string, or env:NAME, file:PATH, age:FILE#NAME holding it (default: PGlite in --datadir)',
      )
      .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/arb'),
    'a hex private key in a file (a secret manager mount), instead of a keystore',
  )
    .requiredOption('--executor <address>', 'the deployed ArbExecutor (owned by the signing account)')
    .requiredOption('--base <address>', 'the base token cycles start and end in (the wrapped native token)')
    .option(
      '--factory <spec>',
      'ADDRESS[:FEE_BPS[:FROM_BLOCK]] of a V2 factory (repeatable)',
      (v, prev: string[]) => [...prev, v],
      [],
    )
    .option('--max-hops <n>', 'longest cycle, in pools (2-4)', '3')
    .option(
      '--funding <mode>',
      "where a trade's input comes from: flash (borrowed from the cycle's last pair, no capital), capital (the executor's balance of --base) or auto (capital when it covers the input, else flash)",
      'flash',
    )
    .option(
      '--search-threads <n>',
      `worker threads for the search's exact sizing (0: on the main thread; on this machine ${suggestedSearchThreads()} would leave one core to the main thread)`,
      '0',
    )
    .option('--poll-ms <ms>', 'poll interval', '1000')
    .option('--kill-file <file>', 'trading stops while this file exists')
    .option(
      '--jwt-secret-file <ref>',
      'HS256 secret (≥ 32 bytes) for bearer tokens: a file (mode 0600), env:NAME or age:FILE#NAME',
    )
    .option(
      '--api-keys-file <ref>',
      'JSON [{"name","role","key"}] of API keys (roles viewer, operator, admin): a file, env:NAME or age:FILE#NAME',
    )
    .option('--age-identity-file <file>', 'age identity that opens age: secrets (default: $CAIRN_AGE_IDENTITY_FILE)')
    .option('--jwks-url <url>', 'JWKS of an OAuth2/OIDC provider: RS256/ES256 bearer tokens')
    .option('--jwt-issuer <iss>', 'required iss of JWKS tokens (with --jwks-url)')
    .option('--jwt-audience <aud>', 'required aud of JWKS tokens (with --jwks-url)')
    .option('--jwt-role-claim <name>', 'the claim of JWKS tokens holding viewer, operator or admin', 'role')
    .option('--no-rate-limit', 'serve the API without rate limits')
    .option('--rate-limit.window-ms <ms>', 'rate-limit sliding window', '60000')
    .option('--rate-limit.per-ip <n>', 'requests per window from one IP without valid credentials', '300')
    .option('--rate-limit.per-principal <n>', 'requests per window of one API key or token subject', '3000')
    .option('--rate-limit.redis-url <url>', 'keep rate-limit windows in Redis (shared by every instance)')
    .option('--rate-limit.on-store-error <policy>', 'when Redis fails: open (let through) or closed (503)', 'open')
    .option('--queue <kind>', 'memory (embedded) or nats', 'memory')
    .option('--nats-url <url>', 'NATS with JetStream', '127.0.0.1:4222')
    .option('--nats-stream <name>', 'the JetStream stream of opportunities (one per deployment)', 'CAIRN_ARB')
    .option('--nats-subject <subject>', 'the subject opportunities are published on', 'cairn.arb.opportunities')
    .option('--role <role>', 'all, strategy (search and queue) or executor (execute from the queue)', 'all')
    .option('--executor-id <name>', 'this process in claims and trades (default: host:pid)')
    .option(
      '--standby',
      "start while another executor holds the signing account's lease, and take over when its heartbeat stops",
    )
    .option('--retention-days <n>', 'days of reserve history and opportunities kept', '30')
    .option('--replace-after-ms <ms>', 'replace a trade not mined after this long with higher fees (0: never)', '0')
    .option(
      '--stuck-timeout-ms <ms>',
      'give up on a trade not mined this long after its first send: the breaker opens',
      '180000',
    )
    .option(
      '--breaker-cooldown-ms <ms>',
      "how long the engine's breaker stays open before one trial trade (half-open)",
      '60000',
    )
    .option('--log-level <level>', 'log level', 'info')
    .option('--otlp-endpoint <url>', 'OpenTelemetry: send spans to this OTLP/HTTP traces URL (default: no tracing)')
    .option('--trace-sample-ratio <r>', 'share of ticks traced, 0..1', '1')
    .option('--http.addr <addr>', 'API listen address', '127.0.0.1')
    .option('--http.port <port>', 'API listen port', '8570')
    .option('--http.vhosts <names>', 'Host names answered (* = any)', '*')
    .option('--http.cors <origins>', 'origins allowed cross-origin', '')
    .action(async (o: StartFlags) => {
      const { checkHmacSecret, createLogger, parseApiKeys, StopOnSignals } = await import('@cairn/service-kit')
      const { parseApiSecurity } = await import('../service/api-config.ts')
      const { ARB_ROLES } = await import('../service/auth.ts')
      const { startArbService } = await import('../service/service.ts')
      const stopper = new StopOnSignals()
      const logger = createLogger({ level: o.logLevel, format: 'auto', onBrokenPipe: stopper.onBrokenPipe })
      if (o.factory.length === 0) throw bad('give at least one --factory')
      for (const [flag, v] of [
        ['--executor', o.executor],
        ['--base', o.base],
      ] as const)
        if (!ADDRESS.test(v)) throw bad(`bad ${flag} ${v}`)
      if (!['all', 'strategy', 'executor'].includes(o.role)) throw bad(`bad --role ${o.role}`)
      if (!['memory', 'nats'].includes(o.queue)) throw bad(`bad --queue ${o.queue}`)
      if (o.role !== 'all' && o.queue === 'memory') throw bad('--role strategy/executor needs --queue nats')
      const secrets = await openSecrets(o.ageIdentityFile)
      const jwtSecret = o.jwtSecretFile ? await secrets.read(o.jwtSecretFile, '--jwt-secret-file') : null
      checkHmacSecret(jwtSecret, `--jwt-secret-file ${o.jwtSecretFile}`)
      const apiKeys = o.apiKeysFile
        ? parseApiKeys(await secrets.readText(o.apiKeysFile, '--api-keys-file'), o.apiKeysFile, ARB_ROLES)
        : []
      const databaseUrl = o.databaseUrl ? await secrets.resolve(o.databaseUrl, '--database-url') : null
      const security = parseApiSecurity(apiSecurityFlags(o))
      const search = searchFlags(o)
      const waits = tradeWaitFlags(o)
      const funding = fundingFlag(o.funding)
      const svc = await startArbService(
        {
          rpc: o.rpc,
          ws: o.ws ?? null,
          databaseUrl,
          datadir: o.datadir,
          key: keySource(o),
          executor: o.executor as Address,
          base: o.base as Address,
          factories: o.factory.map(parseFactory),
          maxHops: search.maxHops,
          funding,
          searchThreads: search.searchThreads,
          pollMs: Number(o.pollMs),
          http: { host: o['http.addr'], port: Number(o['http.port']) },
          auth: {
            jwtSecret,
            jwks: security.jwks,
            apiKeys,
          },
          rateLimit: security.rateLimit,
          edge: { vhosts: list(o['http.vhosts']), cors: list(o['http.cors']), maxConnectionsPerIp: 0, shedLagMs: 0 },
          killFile: o.killFile ?? null,
          queue: o.queue === 'nats' ? { kind: 'nats', ...natsFlags(o) } : { kind: 'memory' },
          runner: {
            role: o.role as 'all' | 'strategy' | 'executor',
            executorId: o.executorId ?? `${hostname()}:${process.pid}`,
            standby: o.standby === true,
            retentionDays: Number(o.retentionDays),
          },
          ...waits,
          tracing: tracingFlags(o),
        },
        { logger },
      )
      // A rotated JWT secret or API key file (a mounted Kubernetes Secret, an age bundle) is put in
      // force without a restart; one that does not read cleanly is refused and the old one stays.
      const watches = [
        o.jwtSecretFile && jwtSecret
          ? secrets.watch(o.jwtSecretFile, '--jwt-secret-file', jwtSecret, (next) => {
              checkHmacSecret(next, `--jwt-secret-file ${o.jwtSecretFile}`)
              svc.rotateAuth({ jwtSecret: next })
            })
          : null,
        o.apiKeysFile
          ? secrets.watch(
              o.apiKeysFile,
              '--api-keys-file',
              await secrets.read(o.apiKeysFile, '--api-keys-file'),
              (next) =>
                svc.rotateAuth({
                  apiKeys: parseApiKeys(new TextDecoder().decode(next), o.apiKeysFile as string, ARB_ROLES),
                }),
            )
          : null,
      ]
      // SIGINT, SIGTERM, or the log output's reader gone (EPIPE): stops cleanly
      stopper.arm(logger, async () => {
        for (const w of watches) w?.stop()
        await svc.close()
      })
    })

  arb
    .command('token')
    .description('Mint an HS256 bearer token for the arbitrage API')
    .requiredOption('--secret-file <ref>', 'the HS256 secret the service was given (a file, env:NAME or age:FILE#NAME)')
    .option('--age-identity-file <file>', 'age identity that opens age: secrets (default: $CAIRN_AGE_IDENTITY_FILE)')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .requiredOption('--sub <name>', 'who (recorded in the audit log)')
    .option('--ttl <seconds>', 'lifetime', '3600')
    .action(async (o: { secretFile: string; role: string; sub: string; ttl: string; ageIdentityFile?: string }) => {
      const { checkHmacSecret } = await import('@cairn/service-kit')
      const { signToken } = await import('../service/auth.ts')
      if (!['viewer', 'operator', 'admin'].includes(o.role)) throw bad(`bad --role ${o.role}`)
      const secret = await (await openSecrets(o.ageIdentityFile)).read(o.secretFile, '--secret-file')
      checkHmacSecret(secret, `--secret-file ${o.secretFile}`)
      process.stdout.write(`${signToken(secret, { sub: o.sub, role: o.role as Role, ttlSeconds: Number(o.ttl) })}\n`)
    })
}
