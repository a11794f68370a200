import type { Sql } from './sql.ts'

/** One schema change; never edit a published one, add the next version. */
export interface Migration {
  version: number
  name: string
  sql: string
}

export interface MigrateOptions {
  /** The table recording applied versions (one per service: `reserves_migrations`, `arb_migrations`). */
  table: string
  /** The advisory lock serialising concurrent migrators of this service (several instances starting at once). */
  lockId: number
}

/**
 * Brings the schema to the latest version: each migration in its own transaction, under an
 * advisory lock, recorded in `opts.table`. Returns the versions it applied (none when up to date).
 */
export async function migrate(sql: Sql, migrations: readonly Migration[], opts: MigrateOptions): Promise<number[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(opts.table)) throw new TypeError(`bad migrations table name ${opts.table}`)
  const ordered = [...migrations].sort((a, b) => a.version - b.version)
  for (const [i, m] of ordered.entries())
    if (i > 0 && m.version === ordered[i - 1]!.version) throw new TypeError(`migration ${m.version} is listed twice`)
  // Under the lock too: two CREATE TABLE IF NOT EXISTS of one table at once collide in PostgreSQL's
  // catalog (pg_type_typname_nsp_index), which failed an instance starting beside others.
  await sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [opts.lockId])
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${opts.table} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    )
  })
  const applied: number[] = []
  for (const m of ordered) {
    const done = await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [opts.lockId])
      const have = await tx.query(`SELECT 1 FROM ${opts.table} WHERE version = $1`, [m.version])
      if (have.length > 0) return false
      await tx.exec(m.sql)
      await tx.query(`INSERT INTO ${opts.table} (version, name) VALUES ($1, $2)`, [m.version, m.name])
      return true
    })
    if (done) applied.push(m.version)
  }
  return applied
}

/** The versions recorded as applied, ascending. */
export async function appliedVersions(sql: Sql, table: string): Promise<number[]> {
  const rows = await sql.query<{ version: number }>(`SELECT version FROM ${table} ORDER BY version`)
  return rows.map((r) => Number(r.version))
}
