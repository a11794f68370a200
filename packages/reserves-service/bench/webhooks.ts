// Webhook delivery rate: N events committed at once to the outbox for one endpoint, a real HTTP
// receiver answering 204 at once, the time until every delivery is recorded. PGlite (on its thread,
// as `serve` runs it) and, when 127.0.0.1:5432 answers, PostgreSQL.
// node --import tsx packages/reserves-service/bench/webhooks.ts [events] [concurrency]
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { silentLogger } from '@cairn/utils'
import pg from 'pg'
import { createReservesService, DEFAULT_SERVICE_OPTIONS } from '../src/app.ts'
import { DEFAULT_WEBHOOKS } from '../src/features/webhooks/worker.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { recordEvent } from '../src/kernel/outbox.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { openPgliteThread } from '../src/kernel/sql-pglite.ts'
import { migrate } from '../src/schema.ts'

const N = Number(process.argv[2] ?? 1000)
const CONCURRENCY = Number(process.argv[3] ?? 8)
const PG = 'postgres://postgres@127.0.0.1:5432/test'

async function run(name: string, sql: Sql): Promise<void> {
  let got = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      got++
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const svc = createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, webhooks: { ...DEFAULT_WEBHOOKS, concurrency: CONCURRENCY, pollMs: 20 } },
    { sql, key: parseKeyFile('aa'.repeat(32)), logger: silentLogger },
  )
  await svc.webhooks.endpoints.create({ url, events: ['*'] })
  const t0 = performance.now()
  await sql.transaction(async (tx) => {
    for (let i = 0; i < N; i++) await recordEvent(tx, 'snapshot.anchored', { snapshotId: 'bench', n: i })
  })
  const recorded = performance.now() - t0
  svc.webhooks.worker?.wake()
  const t1 = performance.now()
  while ((await svc.webhooks.deliveries.backlog()) > 0) await new Promise((r) => setTimeout(r, 10))
  const s = (performance.now() - t1) / 1000
  process.stdout.write(
    `${JSON.stringify({ storage: name, events: N, concurrency: CONCURRENCY, recordMs: Math.round(recorded), deliverSeconds: +s.toFixed(2), perSecond: Math.round(N / s), received: got })}\n`,
  )
  await svc.close()
  server.close()
}

const lite = await openPgliteThread(null)
await migrate(lite)
await run('pglite', lite)
await lite.close()

const c = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 2000 })
try {
  await c.connect()
} catch {
  process.stdout.write('PostgreSQL unreachable: skipped\n')
  process.exit(0)
}
const schema = `reserves_bench_${randomBytes(4).toString('hex')}`
await c.query(`CREATE SCHEMA ${schema}`)
try {
  const sql = await openPostgres(`${PG}?options=-c%20search_path%3D${schema}`)
  await migrate(sql)
  await run('postgres', sql)
  await sql.close()
} finally {
  await c.query(`DROP SCHEMA ${schema} CASCADE`)
  await c.end()
}
