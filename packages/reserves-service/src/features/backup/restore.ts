// Restoring a backup file into a PGlite datadir: nothing is written before the archive checks
// whole (archive.ts); the files go into a temporary directory beside the target, which is opened,
// migrated and compared with the manifest (schema, snapshots and roots, the at-rest key) before one
// rename puts it in place. A failure at any step leaves the target as it was.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import type { Migration } from '@cairn/service-kit/sql'
import { CairnError, fsyncDir } from '@cairn/utils'
import { type AtRestKey, open } from '../../kernel/at-rest.ts'
import { verifyStoredAudit } from '../../kernel/audit.ts'
import { runReservesMigrations } from '../../kernel/migrations.ts'
import type { Sql } from '../../kernel/sql.ts'
import { unpackBackup } from './archive.ts'
import { BackupErrorCode } from './errors.ts'
import { processesUsing } from './in-use.ts'
import { type BackupManifest, compareSnapshots, summarizeDatabase } from './manifest.ts'
import type { TarEntry } from './tar.ts'

export interface RestoreOptions {
  /** The backup file's bytes and its name (for messages). */
  archive: Uint8Array
  from: string
  /** The service's --datadir: the data goes to DATADIR/pgdata. */
  datadir: string
  /** Replace existing data (kept beside it as pgdata.replaced-<time>). */
  force: boolean
  /** When given: checked to be the key that sealed the backup's user rows. */
  key: AtRestKey | null
}

export interface RestoreModules {
  /** Opens PGlite on a directory (the CLI: in this process). */
  openPglite: (dir: string) => Promise<Sql>
  now: () => Date
  /** The service's schema (src/schema.ts): applied on top of the backup's, and its latest version the newest a backup may have. */
  migrations: readonly Migration[]
}

export interface RestoreResult {
  manifest: BackupManifest
  pgdata: string
  /** Where the replaced data went (--force), or null. */
  replaced: string | null
  /** Migrations applied on top of the backup's schema. */
  migrated: number[]
  keyChecked: boolean
}

const verifyFailed = (message: string, hint: string) =>
  new CairnError(BackupErrorCode.VERIFY_FAILED, message, { fault: 'caller', hint })

function writeFiles(dir: string, files: readonly TarEntry[]): void {
  mkdirSync(dir, { mode: 0o700 })
  for (const f of files) {
    const path = join(dir, f.path)
    if (f.dir) {
      mkdirSync(path, { recursive: true, mode: 0o700 })
      continue
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const fd = openSync(path, 'wx', 0o600)
    try {
      for (let at = 0; at < f.data.byteLength; ) at += writeSync(fd, f.data, at)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

/** Checks, opens and compares the restored copy; throws VERIFY_FAILED with what differs. */
async function verifyCopy(
  sql: Sql,
  m: BackupManifest,
  key: AtRestKey | null,
  migrations: readonly Migration[],
): Promise<{ migrated: number[] }> {
  const migrated = await runReservesMigrations(sql, migrations)
  const now = await summarizeDatabase(sql)
  const diffs = compareSnapshots(m.snapshots, now.snapshots)
  if (diffs.length > 0)
    throw verifyFailed(
      `the restored database does not match the manifest: ${diffs.join('; ')}`,
      'the backup is damaged or was edited: restore another copy',
    )
  if (m.audit) {
    const a = await verifyStoredAudit(sql, m.audit.head)
    if (!a.ok)
      throw verifyFailed(
        `the restored audit log does not verify at entry ${a.seq}: ${a.reason}`,
        'the backup is damaged or was edited: restore another copy',
      )
  }
  if (key) {
    if (m.keyIds.length > 0 && !m.keyIds.includes(key.id))
      throw verifyFailed(
        `the key file (id ${key.id}) did not seal this backup (sealed with ${m.keyIds.join(', ')})`,
        'give the at-rest key the service used when the backup was taken: without it the user rows cannot be read',
      )
    for (const s of m.snapshots.filter((x) => x.status === 'built')) {
      const r = await sql.query(
        // rows of an incremental snapshot are its chain head's (kernel/chain.ts), sealed for its id
        `SELECT u.user_id_enc, u.snapshot_id FROM reserves_users u
          WHERE u.snapshot_id = (SELECT COALESCE(lineage, id) FROM reserves_snapshots WHERE id = $1) AND u.key_id = $2 LIMIT 1`,
        [s.id, key.id],
      )
      try {
        if (r[0]) open(key, r[0].user_id_enc as Uint8Array, r[0].snapshot_id as string)
      } catch {
        throw verifyFailed(
          `a user row of snapshot ${s.id} does not decrypt with the key file (id ${key.id})`,
          'the key file is not the one that sealed the backup, or the rows were tampered with',
        )
      }
    }
  }
  return { migrated }
}

/** Verifies the archive, restores it beside DATADIR/pgdata, checks it, then moves it in place. */
export async function restoreBackup(o: RestoreOptions, m: RestoreModules): Promise<RestoreResult> {
  const { manifest, files } = await unpackBackup(o.archive, o.from)
  const latest = Math.max(...m.migrations.map((x) => x.version))
  if (manifest.schemaVersion > latest)
    throw verifyFailed(
      `${o.from} has schema version ${manifest.schemaVersion}; this cairn knows up to ${latest}`,
      'restore it with the cairn version that took it (or a newer one)',
    )
  const pgdata = join(o.datadir, 'pgdata')
  const present = existsSync(pgdata) && readdirSync(pgdata).length > 0
  if (present) {
    const users = processesUsing(pgdata)
    if (users.length > 0)
      throw new CairnError(BackupErrorCode.TARGET_IN_USE, `${pgdata} is open in process ${users.join(', ')}`, {
        fault: 'caller',
        hint: 'stop the service on this datadir first (a restore never writes under a running service)',
      })
    if (!o.force)
      throw new CairnError(BackupErrorCode.TARGET_IN_USE, `${pgdata} holds data already; nothing was written`, {
        fault: 'caller',
        hint: 'restore into a new --datadir, or add --force to replace it (the old data is kept as pgdata.replaced-<time>)',
      })
  }
  mkdirSync(o.datadir, { recursive: true, mode: 0o700 })
  const tmp = join(o.datadir, `.pgdata.restore-${randomBytes(4).toString('hex')}`)
  let checked: { migrated: number[] }
  try {
    writeFiles(tmp, files)
    const sql = await m.openPglite(tmp)
    try {
      checked = await verifyCopy(sql, manifest, o.key, m.migrations)
    } finally {
      await sql.close()
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  let replaced: string | null = null
  if (present) {
    replaced = join(o.datadir, `pgdata.replaced-${m.now().toISOString().replace(/[:.]/g, '-')}`)
    renameSync(pgdata, replaced)
  } else if (existsSync(pgdata)) rmSync(pgdata, { recursive: true }) // an empty directory
  renameSync(tmp, pgdata)
  fsyncDir(o.datadir)
  return { manifest, pgdata, replaced, migrated: checked.migrated, keyChecked: o.key !== null }
}
