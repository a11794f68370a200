// Daily range partitions of the time-series tables (reserve history, opportunities): made ahead of
// time, dropped past the retention. Dropping a partition is O(1), unlike DELETE over millions of rows.
import type { Sql } from '@cairn/service-kit/sql'

export const PARTITIONED_TABLES = ['arb_reserves', 'arb_opportunities'] as const
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number]

const DAY_MS = 86_400_000

/** The UTC day of `ms` as YYYYMMDD (a partition's suffix). */
export function dayKey(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')
}

function dayStart(key: string): number {
  return Date.UTC(Number(key.slice(0, 4)), Number(key.slice(4, 6)) - 1, Number(key.slice(6, 8)))
}

/**
 * Makes the partitions of the days from `now − back` to `now + ahead` that do not exist yet. A
 * partition cannot be made over rows the default partition already holds for that day: those are
 * moved into it first (in one transaction).
 */
export async function ensurePartitions(sql: Sql, nowMs: number, ahead = 2, back = 0): Promise<string[]> {
  const made: string[] = []
  for (const table of PARTITIONED_TABLES) {
    const have = new Set(await partitionsOf(sql, table))
    for (let d = -back; d <= ahead; d++) {
      const key = dayKey(nowMs + d * DAY_MS)
      const name = `${table}_p${key}`
      if (have.has(name)) continue
      const from = new Date(dayStart(key)).toISOString()
      const to = new Date(dayStart(key) + DAY_MS).toISOString()
      await sql.transaction(async (tx) => {
        await tx.query(`CREATE TEMP TABLE IF NOT EXISTS arb_moving (LIKE ${table}) ON COMMIT DROP`)
        await tx.query(
          `WITH moved AS (DELETE FROM ${table}_default WHERE at >= $1 AND at < $2 RETURNING *) INSERT INTO arb_moving SELECT * FROM moved`,
          [from, to],
        )
        await tx.exec(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`)
        await tx.query(`INSERT INTO ${table} SELECT * FROM arb_moving`)
        await tx.exec('DROP TABLE arb_moving')
      })
      made.push(name)
    }
  }
  return made
}

/**
 * The daily partitions of `table`, oldest first: of the table the connection's search path names
 * (`regclass`), not of every table of that name in the database. Matching by name alone saw another
 * schema's partitions (two services, or two test runs, in one database): creation skipped days
 * that existed only there, and retention tried to drop tables this schema does not have.
 */
export async function partitionsOf(sql: Sql, table: PartitionedTable): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass AND c.relname <> $2 ORDER BY c.relname`,
    [table, `${table}_default`],
  )
  return rows.map((r) => r.name)
}

/**
 * Retention: drops the daily partitions wholly older than `keepDays` days before `now`, and deletes
 * the default partition's rows older than that. Returns the partitions dropped.
 */
export async function applyRetention(sql: Sql, nowMs: number, keepDays: number): Promise<string[]> {
  const cutoff = dayKey(nowMs - keepDays * DAY_MS)
  const dropped: string[] = []
  for (const table of PARTITIONED_TABLES) {
    for (const name of await partitionsOf(sql, table)) {
      const key = name.slice(-8)
      if (key < cutoff) {
        await sql.exec(`DROP TABLE ${name}`)
        dropped.push(name)
      }
    }
    await sql.query(`DELETE FROM ${table}_default WHERE at < $1`, [new Date(dayStart(cutoff)).toISOString()])
  }
  return dropped
}
