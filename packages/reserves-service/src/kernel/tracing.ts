// OpenTelemetry for the reserves service (service-kit's Tracer; off unless `--otlp-endpoint`):
// a server span per request, a child span per SQL statement and transaction (the statement's
// operation and table, never its parameters: they hold sealed ids and balances), and a span per
// build attempt (build-runner.ts). With tracing off every hook is skipped: one property check.
import { carrierFrom, type Tracer } from '@cairn/service-kit'
import type { FastifyInstance } from 'fastify'
import type { Row, Sql } from './sql.ts'

/** The first keyword and the table a statement names (`SELECT reserves_snapshots`), nothing else. */
export function statementName(text: string): string {
  const t = text.trimStart()
  const op = /^[A-Za-z]+/.exec(t)?.[0]?.toUpperCase() ?? 'SQL'
  const table = /\b(?:FROM|INTO|UPDATE|TABLE)\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(t)?.[1]
  return table ? `${op} ${table}` : op
}

/** `sql` with a span around every statement and transaction (itself when tracing is off). */
export function traceSql(sql: Sql, tracer: Tracer): Sql {
  if (!tracer.enabled) return sql
  const system = sql.driver === 'pg' ? 'postgresql' : 'pglite'
  const wrap = (inner: Sql): Sql => ({
    driver: inner.driver,
    close: () => inner.close(),
    exec: (text) => tracer.span('db.exec', { 'db.system': system }, () => inner.exec(text)),
    query: <T extends Row = Row>(text: string, params?: unknown[]) =>
      tracer.span(
        `db ${statementName(text)}`,
        { 'db.system': system, 'db.operation': statementName(text) },
        async (span) => {
          const rows = await inner.query<T>(text, params)
          span.setAttributes({ 'db.rows': rows.length })
          return rows
        },
      ),
    transaction: (fn) =>
      tracer.span('db.transaction', { 'db.system': system }, () => inner.transaction((tx) => fn(wrap(tx)))),
  })
  return wrap(sql)
}

/**
 * A server span per request (`GET /v1/snapshots/:id`: the route, not the URL, so user ids stay
 * out), made active for the hooks and handler after it, ended with the status code. A request
 * that carries a W3C `traceparent` header continues the caller's trace.
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  if (!tracer.enabled) return
  const spans = new WeakMap<object, NonNullable<ReturnType<Tracer['begin']>>>()
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url ?? 'unknown'
    const span = tracer.begin(
      `${req.method} ${route}`,
      { 'http.request.method': req.method, 'http.route': route, 'cairn.request_id': req.id },
      'server',
      carrierFrom(req.headers),
    )
    if (!span) return done()
    spans.set(req, span)
    span.run(() => done())
  })
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req)
    if (span) {
      span.setAttributes({ 'http.response.status_code': reply.statusCode })
      span.end(reply.statusCode >= 500 ? `status ${reply.statusCode}` : undefined)
    }
    done()
  })
}
