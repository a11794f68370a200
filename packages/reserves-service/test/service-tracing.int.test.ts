// OpenTelemetry in the reserves service: a server span per request named by its route, the SQL
// statements it ran as children (operation and table only), and a span per build attempt with
// its statements; no user id reaches a span.
import { createTracing, type Tracing } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { statementName, traceSql } from '../src/kernel/tracing.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('tracing-test-secret-tracing-test!')
const bearer = (role: 'admin' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})

describe('reserves tracing', () => {
  let db: OpenedSql
  let tracing: Tracing
  let svc: ReservesService
  const exporter = new InMemorySpanExporter()
  const spans = () => exporter.getFinishedSpans()
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
  beforeAll(async () => {
    db = await openTestSql('pglite')
    tracing = await createTracing(
      {
        enabled: true,
        otlpEndpoint: 'http://127.0.0.1:1/v1/traces',
        sampleRatio: 1,
        serviceName: 't',
        version: '0',
        exporter,
      },
      { logger: silentLogger },
    )
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3 },
      {
        sql: traceSql(db.sql, tracing.tracer),
        key: parseKeyFile('3c'.repeat(32)),
        logger: silentLogger,
        tracer: tracing.tracer,
      },
    )
  })
  afterAll(async () => {
    await svc?.close()
    await tracing?.shutdown()
    await db?.close()
  })

  it('names statements by operation and table only', () => {
    expect(statementName('SELECT * FROM reserves_snapshots WHERE id = $1')).toBe('SELECT reserves_snapshots')
    expect(statementName('  insert into reserves_users (a) values ($1)')).toBe('INSERT reserves_users')
    expect(statementName('UPDATE reserves_jobs SET x = 1')).toBe('UPDATE reserves_jobs')
    expect(statementName('BEGIN')).toBe('BEGIN')
  })

  it('traces a request with its statements as children, and a build with its own', async () => {
    const up = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=t1&currencies=BTC:8',
      headers: { ...bearer('admin', 'ops'), 'content-type': 'text/csv' },
      payload: 'userId,BTC\nalice-secret-id,5\nbob-secret-id,7\n',
    })
    expect(up.statusCode, up.body).toBe(202)
    await svc.idle()
    const read = await svc.app.inject({
      method: 'GET',
      url: '/v1/snapshots/t1/proof',
      headers: bearer('user', 'alice-secret-id'),
    })
    expect(read.statusCode).toBe(200)
    await tracing.flush()

    const server = spans().find((s) => s.name === 'GET /v1/snapshots/:id/proof')
    expect(server).toBeDefined()
    expect(server?.attributes['http.response.status_code']).toBe(200)
    const children = spans().filter((s) => parentOf(s) === server?.spanContext().spanId)
    expect(children.map((s) => s.name)).toEqual(expect.arrayContaining(['db SELECT reserves_snapshots']))

    const upload = spans().find((s) => s.name === 'POST /v1/snapshots')
    expect(upload?.attributes['http.response.status_code']).toBe(202)
    const uploadDb = spans().filter(
      (s) => s.spanContext().traceId === upload?.spanContext().traceId && s.name.startsWith('db'),
    )
    expect(uploadDb.map((s) => s.name)).toEqual(
      expect.arrayContaining(['db.transaction', 'db INSERT reserves_build_input']),
    )

    const build = spans().find((s) => s.name === 'reserves.build')
    expect(build?.attributes['reserves.snapshot_id']).toBe('t1')
    const inBuild = spans()
      .filter((s) => s.spanContext().traceId === build?.spanContext().traceId)
      .map((s) => s.name)
    expect(inBuild).toEqual(expect.arrayContaining(['db INSERT reserves_users', 'db INSERT reserves_levels']))

    // Parameters never reach a span: no user id in any name or attribute.
    expect(JSON.stringify(spans().map((s) => [s.name, s.attributes]))).not.toMatch(/secret-id/)
  })
})
