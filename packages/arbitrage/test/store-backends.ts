// The two storage backends the integration tests run against: PGlite in memory, and the PostgreSQL
// at 127.0.0.1:5432 database `test` (trust auth) in a schema of its own, dropped afterwards —
// skipped with a message when that server is unreachable.
import { openPglite, openPostgres, type Sql } from '@cairn/service-kit/sql'
import { migrateArb } from '../src/store/migrations.ts'

export const PG_URL = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Backend {
  name: 'pglite' | 'postgres'
  open(): Promise<{ sql: Sql; close(): Promise<void> }>
}

let pgReachable: Promise<boolean> | null = null
/** Whether the test PostgreSQL answers (asked once). */
export function postgresReachable(): Promise<boolean> {
  pgReachable ??= openPostgres(PG_URL, { max: 1 }).then(
    async (sql) => {
      await sql.close()
      return true
    },
    (err: unknown) => {
      console.warn(`PostgreSQL tests skipped: ${PG_URL} unreachable (${(err as Error).message})`)
      return false
    },
  )
  return pgReachable
}

export const BACKENDS: Backend[] = [
  {
    name: 'pglite',
    open: async () => {
      const sql = await openPglite(null)
      await migrateArb(sql)
      return { sql, close: () => sql.close() }
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const schema = `arb_t_${process.pid}_${Math.floor(Math.random() * 1e9)}`
      const admin = await openPostgres(PG_URL, { max: 1 })
      await admin.exec(`CREATE SCHEMA ${schema}`)
      const sql = await openPostgres(`${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, { max: 4 })
      await migrateArb(sql)
      return {
        sql,
        close: async () => {
          await sql.close()
          await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
          await admin.close()
        },
      }
    },
  },
]
