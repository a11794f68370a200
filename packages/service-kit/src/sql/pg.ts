import pg from 'pg'
import { type Row, type Sql, type StorageErrorWrap, storageFailed } from './sql.ts'

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number
  wrapError?: StorageErrorWrap
  /**
   * The password, asked for every new connection (a secret read through service-kit's Secrets):
   * a rotated password (`ALTER ROLE … PASSWORD`, then the secret replaced) applies to the pool's
   * next connection without a restart; open ones keep going. Overrides one in the URL.
   */
  password?: () => Promise<string>
}

/** Connects to a PostgreSQL server through a `pg` pool (`connectionString` as in DATABASE_URL). */
export async function openPostgres(connectionString: string, opts: PostgresOptions = {}): Promise<Sql> {
  const wrap = opts.wrapError ?? storageFailed
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(opts.password ? { Client: clientWithPassword(opts.password) } : {}),
  })
  pool.on('error', () => {}) // idle-client errors surface on the next query instead
  const on =
    (client: pg.Pool | pg.PoolClient): Sql['query'] =>
    async <T extends Row>(text: string, params?: unknown[]) => {
      try {
        const r = await client.query(text, params)
        const last = Array.isArray(r) ? r[r.length - 1] : r
        return (last?.rows ?? []).map(toBytes) as T[]
      } catch (err) {
        throw wrap(err, 'query failed')
      }
    }
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end()
    throw wrap(err, 'cannot connect to PostgreSQL')
  }
  const sql: Sql = {
    driver: 'pg',
    query: on(pool),
    exec: async (text) => {
      await on(pool)(text)
    },
    transaction: async (fn) => {
      const client = await pool.connect()
      // A connection cut while the transaction holds it (a failover, the server gone) makes `pg` emit
      // 'error' on the client, an uncaught exception without a listener: the transaction's next
      // statement fails instead, and the dead client is destroyed on release, not pooled again.
      let broken: Error | undefined
      const onError = (err: Error) => {
        broken = err
      }
      client.on('error', onError)
      const query = on(client)
      const tx: Sql = { ...sql, query, exec: async (t) => void (await query(t)), transaction: (f) => f(tx) }
      try {
        await query('BEGIN')
        const out = await fn(tx)
        await query('COMMIT')
        return out
      } catch (err) {
        await query('ROLLBACK').catch((rollbackErr: Error) => {
          broken ??= rollbackErr
        })
        throw err
      } finally {
        client.release(broken)
        // a destroyed client may still report its close: keep it caught
        if (!broken) client.removeListener('error', onError)
      }
    },
    close: () => pool.end(),
  }
  return sql
}

/**
 * A `pg` Client that asks `password` at each connect. (The `password` option alone is lost: `pg`
 * lets the parsed `connectionString` override it, with `undefined` when the URL has none.)
 */
export function clientWithPassword(password: () => Promise<string>): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config)
      // pg's Client takes a function here (asked at each connect); its types say only string
      ;(this as unknown as { password: () => Promise<string> }).password = password
    }
  } as typeof pg.Client
}

/** `pg` returns bytea as Buffer; the services work on plain Uint8Array. */
function toBytes(row: Row): Row {
  for (const k of Object.keys(row)) {
    const v = row[k]
    if (Buffer.isBuffer(v)) row[k] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
  }
  return row
}
