/**
 * Logs in one place (issue 71), on real processes: a `cairn start --dev` node with tracing on
 * writes its JSON lines on stdout; util-linux `logger` ships each line as RFC 5424 syslog over TCP,
 * as Docker's syslog logging driver does for every container of deploy/compose/compose.logs.yaml;
 * rsyslog (Debian's `rsyslog` + `rsyslog-pgsql`) runs the shipped deploy/compose/logs/rsyslog.conf
 * and writes them into PostgreSQL with the shipped schema (deploy/compose/logs/schema.sql). A
 * transaction sent with a `traceparent` is then found by its trace id: the rows of that trace are
 * the node's lines written inside its spans, from the container that wrote them, with level and
 * message, and the whole line searchable as jsonb. A line that is not JSON is kept whole.
 *
 * Needs rsyslogd with its ompgsql module, `logger`, and the PostgreSQL at 127.0.0.1:5432 the
 * services' tests use (a database of its own, dropped after); skips without them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { createWalletClient, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, type NodeHandle, REPO_ROOT, startNode, waitFor } from '../../packages/node/test/e2e/harness.ts'
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.ts'

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
const DB = `cairn_logs_${process.pid}`

async function pgUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 })
  try {
    await c.connect()
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}
const ompgsql = ['/usr/lib/x86_64-linux-gnu/rsyslog/ompgsql.so', '/usr/lib/aarch64-linux-gnu/rsyslog/ompgsql.so']
const tools = has('rsyslogd') && has('logger') && ompgsql.some((p) => existsSync(p))
const ready = tools && (await pgUp())
if (!ready)
  console.warn('skipping the log store test: no rsyslogd + rsyslog-pgsql, logger, or PostgreSQL at 127.0.0.1:5432')

const dir = mkdtempSync(join(tmpdir(), 'cairn-logstore-'))
const children: ChildProcess[] = []
let db: pg.Client
let node: NodeHandle
let receiver: OtlpReceiver
let rsyslogOut = ''

beforeAll(async () => {
  if (!ready) return
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`)
  await admin.query(`CREATE DATABASE ${DB}`)
  await admin.end()
  db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${DB}` })
  await db.connect()
  await db.query(readFileSync(join(REPO_ROOT, 'deploy/compose/logs/schema.sql'), 'utf8'))

  const syslogPort = await freePort()
  const rsyslog = spawn(
    'rsyslogd',
    ['-n', '-f', join(REPO_ROOT, 'deploy/compose/logs/rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')],
    {
      env: {
        ...process.env,
        LOGS_WORK_DIR: dir,
        LOGS_SYSLOG_PORT: String(syslogPort),
        LOGS_PG_HOST: '127.0.0.1',
        LOGS_PG_PORT: '5432',
        LOGS_PG_DB: DB,
        LOGS_PG_USER: 'postgres',
        LOGS_PG_PASSWORD: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(rsyslog)
  rsyslog.stdout?.on('data', (d) => {
    rsyslogOut += String(d)
  })
  rsyslog.stderr?.on('data', (d) => {
    rsyslogOut += String(d)
  })
  // rsyslog listening: a line sent now arrives
  await waitFor(
    async () => {
      spawnSync('logger', ['--tcp', '--rfc5424', '-n', '127.0.0.1', '-P', String(syslogPort), '-t', 'probe', 'hello'])
      return (await db.query(`SELECT 1 FROM logs WHERE container = 'probe'`)).rowCount !== 0
    },
    30_000,
    'rsyslog writing into PostgreSQL',
    () => rsyslogOut,
  )

  receiver = await startOtlpReceiver()
  const saved = { ...process.env }
  process.env.CAIRN_TRACING_ENABLED = 'true'
  process.env.CAIRN_TRACING_OTLP_ENDPOINT = receiver.url
  process.env.CAIRN_LOG_FORMAT = 'json'
  process.env.CAIRN_LOG_LEVEL = 'debug'
  try {
    node = await startNode('cairn', { args: ['--ephemeral'] })
  } finally {
    process.env = saved
  }
  // the node's whole output (its banner and start lines too), shipped line by line as a container's would be
  const nodeProc = spawn(
    'logger',
    ['--tcp', '--rfc5424', '-n', '127.0.0.1', '-P', String(syslogPort), '-t', 'validator-1', '--size', '65000'],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  )
  children.push(nodeProc)
  let shipped = 0
  const pump = setInterval(() => {
    const all = node.logs()
    if (all.length > shipped) nodeProc.stdin?.write(all.slice(shipped))
    shipped = all.length
  }, 100)
  children.push({ kill: () => clearInterval(pump), exitCode: 0 } as unknown as ChildProcess)
}, 180_000)

afterAll(async () => {
  for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGTERM')
  await node?.stop()
  await receiver?.close()
  await db?.end().catch(() => {})
  if (ready) {
    const admin = new pg.Client({ connectionString: ADMIN_URL })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => {})
    await admin.end()
  }
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!ready)('every line in one searchable place (rsyslog into PostgreSQL)', () => {
  it('finds the lines of one trace by its id, from the container that wrote them', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`
    const wallet = createWalletClient({
      account: privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'),
      transport: http(node.url, { fetchOptions: { headers: { traceparent } } }),
    })
    await wallet.sendTransaction({ to: `0x${'be'.repeat(20)}`, value: parseEther('0.01'), chain: null })

    type Row = { container: string; level: string; msg: string; span_id: string; line: Record<string, unknown> }
    let rows: Row[] = []
    await waitFor(
      async () => {
        rows = (
          await db.query<Row>(
            'SELECT container, level, msg, span_id, line FROM logs WHERE trace_id = $1 ORDER BY received, id',
            [traceId],
          )
        ).rows
        return rows.length > 0
      },
      30_000,
      'the lines of the trace in the store',
      () => `${rsyslogOut}\n${node.logs().slice(-2000)}`,
    )
    for (const r of rows) {
      expect(r.container).toBe('validator-1')
      expect(r.level).toMatch(/^(trace|debug|info|warn|error|fatal)$/)
      expect(r.msg).not.toBe('')
      expect(r.span_id).toMatch(/^[0-9a-f]{16}$/)
      expect(r.line.trace_id).toBe(traceId)
    }
    // the spans those lines were written in are the node's spans of that trace (exported each second)
    const spanIds = () => new Set(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.spanId))
    await waitFor(
      async () => rows.every((r) => spanIds().has(r.span_id)),
      30_000,
      'the spans of the logged lines',
      () =>
        JSON.stringify({
          rows: rows.map((r) => [r.msg, r.span_id]),
          spans: receiver.spans.filter((s) => s.traceId === traceId).map((s) => [s.name, s.spanId]),
        }),
    )

    // the whole line is searchable as jsonb (the node's start line, by its fields)
    const started = await db.query(`SELECT msg FROM logs WHERE line @> '{"module":"engine"}' AND container = $1`, [
      'validator-1',
    ])
    expect(started.rowCount).toBeGreaterThan(0)
    // a line that is not JSON (the node's banner) is kept whole
    const banner = await db.query(`SELECT msg FROM logs WHERE line IS NULL AND msg LIKE 'Chain ID:%'`)
    expect(banner.rowCount).toBeGreaterThan(0)
  }, 120_000)
})
