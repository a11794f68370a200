import { openPglite as open } from '@cairn/service-kit/sql'
import { startWorker } from '@cairn/utils'
import { Mutex } from 'async-mutex'
import { type Row, type Sql, storageError } from './sql.ts'

/** Opens an embedded PostgreSQL (PGlite) in `dataDir`, or in memory when it is null. */
export function openPglite(dataDir: string | null): Promise<Sql> {
  return open(dataDir, { wrapError: storageError })
}

/**
 * PGlite on a thread of its own (pglite-thread.ts): the same one connection and the same dialect,
 * but each statement runs off the serving thread, so the event loop (probes, cached proofs,
 * WebSockets) stays free while a build writes its rows. Calls are serialized here as on the
 * in-thread driver; a transaction holds the connection from BEGIN to COMMIT.
 */
export async function openPgliteThread(dataDir: string | null): Promise<Sql> {
  const thread = startWorker(
    new URL(`./pglite-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
    {
      workerData: { dir: dataDir },
    },
  )
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  let next = 1
  let dead: Error | null = null
  const ready = new Promise<void>((resolve, reject) => waiting.set(0, { resolve: () => resolve(), reject }))
  thread.on('message', (m: { n: number; ok: boolean; rows?: unknown; message?: string }) => {
    const w = waiting.get(m.n)
    if (!w) return
    waiting.delete(m.n)
    if (m.ok) w.resolve(m.rows)
    else w.reject(new Error(m.message))
  })
  const fail = (err: Error) => {
    dead = err
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
  }
  thread.on('error', fail)
  thread.on('exit', (code) => fail(new Error(`the PGlite thread exited (code ${code})`)))
  await ready.catch((err: unknown) => {
    throw storageError(err, 'cannot open PGlite')
  })
  const ask = (op: 'query' | 'exec' | 'close', text?: string, params?: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (dead) return reject(dead)
      const n = next++
      waiting.set(n, { resolve, reject })
      thread.postMessage({ n, op, text, params })
    })
  const lock = new Mutex()
  const run = async <T extends Row>(text: string, params?: unknown[]): Promise<T[]> => {
    try {
      return (await ask('query', text, params)) as T[]
    } catch (err) {
      throw storageError(err, 'query failed')
    }
  }
  const exec = async (text: string) => {
    try {
      await ask('exec', text)
    } catch (err) {
      throw storageError(err, 'statements failed')
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
    close: async () => {
      await lock.runExclusive(() => ask('close').catch(() => {}))
      await thread.terminate()
    },
  }
  return sql
}
