// Opens the service's storage on PGlite (in memory) or on the PostgreSQL at 127.0.0.1:5432 (db `test`,
// a fresh schema per run, dropped afterwards).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Sql } from '../src/kernel/sql.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { openPglite } from '../src/kernel/sql-pglite.ts'
import { migrate } from '../src/schema.ts'

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** Null when PostgreSQL answers, else why not. */
export async function postgresUnavailable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 })
  try {
    await c.connect()
    await c.query('SELECT 1')
    return null
  } catch (err) {
    return (err as Error).message
  } finally {
    await c.end().catch(() => {})
  }
}

export interface OpenedSql {
  sql: Sql
  close(): Promise<void>
  /** PostgreSQL: the connection string of this run's schema (another pool, another instance). */
  url?: string
}

export async function openTestSql(driver: 'pglite' | 'pg'): Promise<OpenedSql> {
  if (driver === 'pglite') {
    const sql = await openPglite(null)
    await migrate(sql)
    return { sql, close: () => sql.close() }
  }
  const schema = `reserves_test_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = `${PG_URL}?options=-c%20search_path%3D${schema}`
  const sql = await openPostgres(url)
  await migrate(sql)
  return {
    sql,
    url,
    close: async () => {
      await sql.close()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}
