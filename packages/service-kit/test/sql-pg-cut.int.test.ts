// A connection cut while a transaction holds it (a failover: HAProxy shuts the old leader's
// sessions, or the server dies between two statements) fails that transaction with a storage error,
// and nothing else: `pg` emits 'error' on a checked-out client, which with no listener is an
// uncaught exception that ends the process. The pool drops the dead client and the next query
// opens a new connection. Seen first under `npm run test:pg-failover`.
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openPostgres } from '../src/sql/index.ts'

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test'
async function postgresDown(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 })
  try {
    await c.connect()
    return null
  } catch (err) {
    return (err as Error).message
  } finally {
    await c.end().catch(() => {})
  }
}
const pgDown = await postgresDown()
if (pgDown) console.warn(`sql-pg-cut.int: skipped (${pgDown})`)

describe.skipIf(pgDown)('openPostgres: a connection cut inside a transaction', () => {
  it('fails the transaction, raises nothing uncaught, and the pool carries on', async () => {
    const sql = await openPostgres(PG_URL, { max: 2 })
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => uncaught.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      const failed = sql.transaction(async (tx) => {
        const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        // the server ends this very session between two statements, from another connection
        await sql.query('SELECT pg_terminate_backend($1)', [row?.pid])
        await new Promise((r) => setTimeout(r, 300)) // the FATAL and the close arrive while idle
        await tx.query('SELECT 1')
      })
      await expect(failed).rejects.toThrow()
      await new Promise((r) => setTimeout(r, 200))
      expect(uncaught).toEqual([])
      // the next transaction and query get a live connection
      expect(await sql.transaction(async (tx) => (await tx.query('SELECT 2 AS n'))[0]?.n)).toBe(2)
      expect((await sql.query('SELECT 3 AS n'))[0]?.n).toBe(3)
    } finally {
      process.off('uncaughtException', onUncaught)
      await sql.close()
    }
  })
})
