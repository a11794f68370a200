import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createLogger, createMetricsRegistry, readApiKeysFile, StopOnSignals } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { ReservesErrorCode } from '../errors.ts'
import { createReservesService, DEFAULT_SERVICE_OPTIONS } from '../service/app.ts'
import { type AtRestKey, parseKeyFile } from '../service/at-rest.ts'
import { verifyStoredAudit } from '../service/audit.ts'
import { checkHmacSecret, RESERVES_ROLES } from '../service/auth.ts'
import { migrate } from '../service/migrations.ts'
import type { Sql } from '../service/sql.ts'
import { openPostgres } from '../service/sql-pg.ts'
import { openPglite } from '../service/sql-pglite.ts'
import { readArgFile } from './read-arg-file.ts'

const PKG_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

interface StorageFlags {
  datadir: string
  databaseUrl?: string
}

async function openStorage(o: StorageFlags): Promise<Sql> {
  if (!o.databaseUrl) mkdirSync(o.datadir, { recursive: true })
  const sql = o.databaseUrl ? await openPostgres(o.databaseUrl) : await openPglite(join(o.datadir, 'pgdata'))
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

/** `cairn reserves serve` and `cairn reserves audit verify`. */
export function registerServe(r: Command): void {
  r.command('serve')
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
    .option('--api-keys-file <file>', 'JSON [{"name","role","key"}] of service-to-service API keys (X-Api-Key)')
    .option('--redis-url <url>', 'redis://… proof cache shared by instances (default: memory only)')
    .option('--http.addr <addr>', 'listen address', '127.0.0.1')
    .option('--http.port <port>', 'listen port', '8560')
    .option('--http.vhosts <names>', 'comma-separated Host names answered (* = any)', '*')
    .option('--http.cors <origins>', 'comma-separated origins allowed cross-origin (* = any; default none)', '')
    .option('--min-depth <n>', 'default minimum tree depth', '10')
    .action(
      async (
        o: StorageFlags & {
          keyFile?: string
          dev?: boolean
          jwtSecretFile?: string
          jwksUrl?: string
          jwtIssuer?: string
          jwtAudience?: string
          jwtRoleClaim: string
          redisUrl?: string
          apiKeysFile?: string
          'http.addr': string
          'http.port': string
          'http.vhosts': string
          'http.cors': string
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
        const sql = await openStorage(o)
        const keyFile = o.keyFile
        const svc = createReservesService(
          {
            ...DEFAULT_SERVICE_OPTIONS,
            jwtSecret,
            jwks: o.jwksUrl
              ? { url: o.jwksUrl, issuer: o.jwtIssuer!, audience: o.jwtAudience!, roleClaim: o.jwtRoleClaim }
              : null,
            redisUrl: o.redisUrl ?? null,
            apiKeys: o.apiKeysFile ? readApiKeysFile(o.apiKeysFile, RESERVES_ROLES) : [],
            defaultMinDepth: Number(o.minDepth),
            edge: { ...DEFAULT_SERVICE_OPTIONS.edge, vhosts: list(o['http.vhosts']), cors: list(o['http.cors']) },
          },
          {
            sql,
            key: readKey(keyFile),
            logger,
            metrics: createMetricsRegistry({ version: PKG_VERSION, commit: 'unknown' }),
          },
        )
        const addr = await svc.app.listen({ host: o['http.addr'], port: Number(o['http.port']) })
        logger.info({ addr, storage: sql.driver }, 'reserves service listening')
        // SIGINT, SIGTERM, or the log output's reader gone (EPIPE): stops cleanly
        stopper.arm(logger, async () => {
          try {
            await svc.close()
          } finally {
            await sql.close()
          }
        })
      },
    )

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
        const r = await verifyStoredAudit(sql, o.head)
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
