import { PGlite } from '@electric-sql/pglite'
import { Mutex } from 'async-mutex'
import { type Row, type Sql, type StorageErrorWrap, storageFailed } from './sql.ts'

/** Opens an embedded PostgreSQL (PGlite) in `dataDir`, or in memory when it is null. */
export async function openPglite(dataDir: string | null, opts: { wrapError?: StorageErrorWrap } = {}): Promise<Sql> {
  const wrap = opts.wrapError ?? storageFailed
  const db = dataDir ? new PGlite(dataDir) : new PGlite()
  await db.waitReady
  // PGlite is one connection: transactions must not interleave with other queries.
  const lock = new Mutex()
  const run = async <T extends Row>(text: string, params?: unknown[]) => {
    try {
      return (await db.query<T>(text, params)).rows
    } catch (err) {
      throw wrap(err, 'query failed')
    }
  }
  const exec = async (text: string) => {
    try {
      await db.exec(text)
    } catch (err) {
      throw wrap(err, 'statements failed')
    }
  }
  const sql: Sql = {
    driver: 'pglite',
    exec: (text) => lock.runExclusive(() => exec(text)),
    query: (text, params) => lock.runExclusive(() => run(text, params)),
    transaction: (fn) =>
      lock.runExclusive(async () => {
        await run('BEGIN')
        const tx: Sql = { ...sql, query: run, exec, transaction: (f) => f(tx) }
        try {
          const out = await fn(tx)
          await run('COMMIT')
          return out
        } catch (err) {
          await run('ROLLBACK')
          throw err
        }
      }),
    close: () => db.close(),
  }
  return sql
}
