// Taking a backup of a PGlite database through its one connection. PGlite is single-process and
// keeps no lock on its datadir, so the copy is made by the process that holds it: inside one
// transaction (the connection is held, no other statement runs) a CHECKPOINT writes every dirty
// page, then the data directory's files are listed (pg_ls_dir) and read (pg_read_binary_file)
// through SQL. The files are a consistent, cleanly checkpointed image; the summary in the manifest
// is read in the same transaction. The service's other queries wait meanwhile (~1 s per 30 MB).
import { CairnError } from '@cairn/utils'
import type { Sql } from '../../kernel/sql.ts'
import { DataWriter, packManifest } from './archive.ts'
import { BackupErrorCode } from './errors.ts'
import { type BackupManifest, type DatabaseSummary, summarizeDatabase } from './manifest.ts'
import type { TarEntry } from './tar.ts'

/** Never copied: the lock file, options of a run, temporary files (as pg_basebackup leaves them out). */
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts'])
/** Copied as empty directories: their contents are runtime state, rebuilt at start. */
const EMPTY_DIRS = new Set(['pg_dynshmem', 'pg_notify', 'pg_replslot', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp'])
/** Bytes read per statement (base64 through the PGlite thread; PGlite's buffers grow to the largest). */
const CHUNK = 1 << 20

async function readFile(tx: Sql, path: string, size: number): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for (let at = 0; at < size; at += CHUNK) {
    const r = await tx.query("SELECT encode(pg_read_binary_file($1, $2, $3), 'base64') AS b", [path, at, CHUNK])
    parts.push(Buffer.from(r[0]?.b as string, 'base64'))
  }
  const b = Buffer.concat(parts)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

async function walk(tx: Sql, dir: string, add: (e: TarEntry) => Promise<void>): Promise<void> {
  const rows = await tx.query(
    `SELECT name, (s).size AS size, (s).isdir AS isdir
       FROM (SELECT name, pg_stat_file($1 || '/' || name) AS s FROM pg_ls_dir($1) AS name) t ORDER BY name`,
    [dir],
  )
  for (const r of rows) {
    const name = r.name as string
    const path = dir === '.' ? name : `${dir}/${name}`
    if (r.isdir) {
      await add({ path, dir: true, mode: 0o700, data: new Uint8Array(0) })
      if (!EMPTY_DIRS.has(path) && !name.startsWith('pgsql_tmp')) await walk(tx, path, add)
    } else if (!SKIP_FILES.has(path) && !name.startsWith('pgsql_tmp'))
      await add({ path, dir: false, mode: 0o600, data: await readFile(tx, path, Number(r.size)) })
  }
}

/** Reads the database summary and every file of the data directory (into `add`) in one transaction. */
export async function readDataDir(sql: Sql, add: (e: TarEntry) => Promise<void>): Promise<DatabaseSummary> {
  if (sql.driver !== 'pglite')
    throw new CairnError(BackupErrorCode.UNSUPPORTED, 'this service stores its data in PostgreSQL', {
      fault: 'caller',
      hint: 'back PostgreSQL up with pg_basebackup and WAL archiving (docs/reserves/backup.md)',
    })
  return sql.transaction(async (tx) => {
    await tx.exec('CHECKPOINT')
    const summary = await summarizeDatabase(tx)
    await walk(tx, '.', add)
    return summary
  })
}

/**
 * A backup file of the PGlite database behind `sql`; `now` stamps the manifest; `heldMs`: how
 * long the database was held (the files are compressed as they are read, only compressed bytes kept).
 */
export async function takeBackup(
  sql: Sql,
  o: { mode: 'online' | 'offline'; now: Date; clockMs?: () => number },
): Promise<{ archive: Buffer; manifest: BackupManifest; sha256: string; heldMs: number }> {
  const clock = o.clockMs ?? Date.now
  const started = clock()
  const data = new DataWriter(Math.floor(o.now.getTime() / 1000))
  let pgVersion = 'unknown'
  const summary = await readDataDir(sql, async (e) => {
    if (e.path === 'PG_VERSION') pgVersion = Buffer.from(e.data).toString('utf8').trim()
    await data.add(e)
  })
  const heldMs = clock() - started
  const packed = packManifest(await data.finish(), data.files, {
    createdAt: o.now.toISOString(),
    mode: o.mode,
    pgVersion,
    ...summary,
  })
  return { ...packed, heldMs }
}
