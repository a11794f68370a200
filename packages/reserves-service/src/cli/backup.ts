import { randomBytes } from 'node:crypto'
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ReservesErrorCode } from '@cairn/reserves'
import { readArgFile } from '@cairn/reserves/cli'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { unpackBackup } from '../features/backup/archive.ts'
import { BackupErrorCode } from '../features/backup/errors.ts'
import { processesUsing } from '../features/backup/in-use.ts'
import type { BackupManifest } from '../features/backup/manifest.ts'
import { restoreBackup } from '../features/backup/restore.ts'
import { takeBackup } from '../features/backup/take.ts'
import { parseKeyFile } from '../kernel/at-rest.ts'
import { openPglite } from '../kernel/sql-pglite.ts'
import { MIGRATIONS } from '../schema.ts'
import { openSecrets } from './serve-secrets.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)
const bad = (message: string, hint?: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })

/** --out: a file, or an existing directory to name the file in. Refuses to overwrite. */
function outputPath(outArg: string, m: BackupManifest): string {
  const file =
    existsSync(outArg) && statSync(outArg).isDirectory()
      ? join(outArg, `reserves-${m.createdAt.replace(/[:.]/g, '-')}.cairn-backup`)
      : outArg
  if (existsSync(file)) throw bad(`${file} exists already`, 'give a new file name, or a directory')
  return file
}

/** Writes the whole file under a temporary name, then renames it: never a half-written backup. */
function writeAtomically(file: string, data: Uint8Array): void {
  const tmp = `${file}.partial-${randomBytes(3).toString('hex')}`
  writeFileSync(tmp, data, { mode: 0o600, flush: true })
  renameSync(tmp, file)
}

async function offline(datadir: string): Promise<ReturnType<typeof takeBackup>> {
  const pgdata = join(datadir, 'pgdata')
  if (!existsSync(join(pgdata, 'PG_VERSION')))
    throw bad(`${pgdata} is not a PGlite data directory`, 'give the --datadir the service runs with')
  const users = processesUsing(pgdata)
  if (users.length > 0)
    throw new CairnError(
      BackupErrorCode.TARGET_IN_USE,
      `${pgdata} is open in process ${users.join(', ')} (the service?)`,
      {
        fault: 'caller',
        hint: 'take an online backup through the service instead: cairn reserves backup --url URL --token-file ADMIN_TOKEN --out FILE',
      },
    )
  const sql = await openPglite(pgdata)
  try {
    const t = await sql.query("SELECT to_regclass('reserves_migrations') AS t")
    if (!t[0]?.t) throw bad(`${pgdata} holds no reserves data (the service never ran on it)`)
    return await takeBackup(sql, { mode: 'offline', now: new Date() })
  } finally {
    await sql.close()
  }
}

async function online(
  url: string,
  auth: Record<string, string>,
): Promise<{ archive: Buffer; manifest: BackupManifest; sha256: string }> {
  let res: Response
  try {
    res = await fetch(new URL('/v1/admin/backup', url), { method: 'POST', headers: auth })
  } catch (err) {
    throw new CairnError(
      ReservesErrorCode.STORAGE_FAILED,
      `cannot reach the service at ${url}: ${(err as Error).message}`,
      {
        fault: 'transient',
        hint: 'check --url and that cairn reserves serve runs there',
      },
    )
  }
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) {
    let msg = body.toString('utf8')
    try {
      const j = JSON.parse(msg) as { code?: string; message?: string; hint?: string }
      msg = `${j.code}: ${j.message}${j.hint ? ` (${j.hint})` : ''}`
    } catch {}
    const code =
      res.status === 401
        ? ReservesErrorCode.UNAUTHENTICATED
        : res.status === 403
          ? ReservesErrorCode.FORBIDDEN
          : res.status === 503
            ? BackupErrorCode.BUSY
            : BackupErrorCode.UNSUPPORTED
    throw new CairnError(code, `the service refused the backup (HTTP ${res.status}): ${msg}`, {
      fault: res.status >= 500 ? 'transient' : 'caller',
    })
  }
  const { manifest } = await unpackBackup(body, 'the backup the service sent') // a damaged transfer is never written
  const sha256 = res.headers.get('x-cairn-backup-sha256') ?? ''
  return { archive: body, manifest, sha256 }
}

/** `cairn reserves backup` and `cairn reserves restore` (PGlite datadirs; PostgreSQL: docs/reserves/backup.md). */
export function registerBackup(r: Command): void {
  r.command('backup')
    .description('Back up the PGlite database: online through a running service (--url), or a stopped --datadir')
    .requiredOption('--out <fileOrDir>', 'the backup file to write (or a directory to name it in)')
    .option('--datadir <dir>', 'offline: the stopped service datadir', './.cairn/reserves')
    .option('--url <url>', 'online: the running service (POST /v1/admin/backup, admin role)')
    .option(
      '--token-file <file>',
      'online: an admin bearer token (cairn reserves token --role admin): a path (owner-only), env:NAME or age:FILE#NAME',
    )
    .option(
      '--api-key-file <file>',
      'online: an admin API key (X-Api-Key): a path (owner-only), env:NAME or age:FILE#NAME',
    )
    .action(async (o: { out: string; datadir: string; url?: string; tokenFile?: string; apiKeyFile?: string }) => {
      let b: { archive: Buffer; manifest: BackupManifest; sha256: string }
      if (o.url) {
        const secret = o.tokenFile ?? o.apiKeyFile
        if (!secret)
          throw bad(
            '--url needs --token-file or --api-key-file',
            'mint one: cairn reserves token --role admin --sub backup --secret-file JWT_SECRET',
          )
        const value = (
          await openSecrets(undefined, process.env).readText(secret, o.tokenFile ? '--token-file' : '--api-key-file')
        ).trim()
        b = await online(o.url, o.tokenFile ? { authorization: `Bearer ${value}` } : { 'x-api-key': value })
      } else b = await offline(o.datadir)
      const file = outputPath(o.out, b.manifest)
      writeAtomically(file, b.archive)
      out(
        JSON.stringify({
          file,
          sha256: b.sha256,
          bytes: b.archive.byteLength,
          mode: b.manifest.mode,
          schemaVersion: b.manifest.schemaVersion,
          snapshots: b.manifest.snapshots.map((s) => ({ id: s.id, status: s.status, root: s.root })),
          auditHead: b.manifest.audit?.head ?? null,
        }),
      )
    })

  r.command('restore')
    .description('Restore a backup into DATADIR/pgdata: verified whole first, checked, then moved in place')
    .requiredOption('--from <file>', 'a file written by cairn reserves backup')
    .requiredOption('--datadir <dir>', 'the datadir to restore into (its pgdata must be empty, or --force)')
    .option('--force', 'replace existing data (kept beside it as pgdata.replaced-<time>)')
    .option(
      '--key-file <file>',
      "the at-rest key (a path, env:NAME or age:FILE#NAME): checked to be the one that sealed the backup's user rows",
    )
    .action(async (o: { from: string; datadir: string; force?: boolean; keyFile?: string }) => {
      const archive = readArgFile('--from', o.from)
      const key = o.keyFile
        ? parseKeyFile(await openSecrets(undefined, process.env).readText(o.keyFile, '--key-file'))
        : null
      const res = await restoreBackup(
        { archive: new Uint8Array(archive), from: o.from, datadir: o.datadir, force: Boolean(o.force), key },
        { openPglite, now: () => new Date(), migrations: MIGRATIONS },
      )
      out(
        JSON.stringify({
          restored: res.pgdata,
          createdAt: res.manifest.createdAt,
          schemaVersion: res.manifest.schemaVersion,
          migrated: res.migrated,
          snapshots: res.manifest.snapshots.map((s) => ({ id: s.id, status: s.status, root: s.root })),
          auditHead: res.manifest.audit?.head ?? null,
          keyChecked: res.keyChecked,
          replaced: res.replaced,
        }),
      )
    })
}
