// The entry of the PGlite thread (sql-pglite.ts, `openPgliteThread`): the embedded PostgreSQL runs
// here, so a statement — PGlite executes each synchronously, ~0.35 s per MiB of bytea — never holds
// the serving thread's event loop. One request at a time, in order; the caller serializes them.
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

interface Ask {
  n: number
  op: 'query' | 'exec' | 'close'
  text?: string
  params?: unknown[]
}

const dir = (workerData as { dir: string | null }).dir
const db = dir ? new PGlite(dir) : new PGlite()
const port = parentPort!
db.waitReady.then(
  () => port.postMessage({ n: 0, ok: true }),
  (err: unknown) => port.postMessage({ n: 0, ok: false, message: (err as Error).message }),
)
port.on('message', async (a: Ask) => {
  try {
    if (a.op === 'query') port.postMessage({ n: a.n, ok: true, rows: (await db.query(a.text!, a.params)).rows })
    else if (a.op === 'exec') {
      await db.exec(a.text!)
      port.postMessage({ n: a.n, ok: true })
    } else {
      await db.close()
      port.postMessage({ n: a.n, ok: true })
    }
  } catch (err) {
    port.postMessage({ n: a.n, ok: false, message: (err as Error).message, code: (err as { code?: string }).code })
  }
})
