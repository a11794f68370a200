// What a backup says about itself: written beside the data in the archive, checked before a restore
// writes anything, and compared with the restored database before it replaces the datadir.
import type { Sql } from '../../kernel/sql.ts'

export const BACKUP_FORMAT = 'cairn-reserves-backup/1'

/** One snapshot as the backup saw it. */
export interface ManifestSnapshot {
  id: string
  status: string
  /** The root hash (null unless built). */
  root: string | null
  userCount: number
}

/** What the database held when the backup was taken (read in the same transaction as the files). */
export interface DatabaseSummary {
  /** The latest applied migration. */
  schemaVersion: number
  snapshots: ManifestSnapshot[]
  /** Ids of the at-rest keys that sealed the stored user rows: the backup is only usable with one of them. */
  keyIds: string[]
  /** The audit log's newest entry (null when empty): `cairn reserves audit verify --head` after a restore. */
  audit: { seq: number; head: string } | null
}

export interface BackupManifest extends DatabaseSummary {
  format: typeof BACKUP_FORMAT
  createdAt: string
  /** online: taken through the running service (POST /v1/admin/backup); offline: from a stopped datadir. */
  mode: 'online' | 'offline'
  /** The PostgreSQL major version of the data files (PG_VERSION). */
  pgVersion: string
  /** The data: a gzip'd tar of the PGlite data directory, its size and SHA-256. */
  data: { name: string; bytes: number; sha256: string; files: number }
}

/** Reads the schema version, the snapshots, the key ids and the audit head. */
export async function summarizeDatabase(sql: Sql): Promise<DatabaseSummary> {
  const v = await sql.query('SELECT max(version) AS v FROM reserves_migrations')
  const snaps = await sql.query('SELECT id, status, root_hash, user_count FROM reserves_snapshots ORDER BY seq')
  const keys = await sql.query('SELECT DISTINCT key_id FROM reserves_users ORDER BY key_id')
  const head = await sql.query('SELECT seq, hash FROM reserves_audit ORDER BY seq DESC LIMIT 1')
  return {
    schemaVersion: Number(v[0]?.v ?? 0),
    snapshots: snaps.map((r) => ({
      id: r.id as string,
      status: r.status as string,
      root: (r.root_hash as string | null) ?? null,
      userCount: Number(r.user_count),
    })),
    keyIds: keys.map((r) => r.key_id as string),
    audit: head[0] ? { seq: Number(head[0].seq), head: head[0].hash as string } : null,
  }
}

/** The differences between the snapshots a manifest lists and those a database holds (empty: they match). */
export function compareSnapshots(want: readonly ManifestSnapshot[], have: readonly ManifestSnapshot[]): string[] {
  const diffs: string[] = []
  const got = new Map(have.map((s) => [s.id, s]))
  for (const w of want) {
    const h = got.get(w.id)
    if (!h) diffs.push(`snapshot ${w.id} is missing`)
    else if (h.status !== w.status || h.root !== w.root)
      diffs.push(
        `snapshot ${w.id} is ${h.status} with root ${h.root}, the manifest says ${w.status} with root ${w.root}`,
      )
    got.delete(w.id)
  }
  for (const id of got.keys()) diffs.push(`snapshot ${id} is not in the manifest`)
  return diffs
}
