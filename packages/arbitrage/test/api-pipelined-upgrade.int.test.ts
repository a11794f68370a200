// An upgrade request pipelined behind another request on the API port (`GET /health`, then a
// WebSocket handshake or a `POST /` with `Upgrade: websocket`, in one packet): service-kit's shared
// suite (pipelined-upgrade-suite.ts says what it guards against).
import { createLogger, createMetricsRegistry, HealthChecks } from '@cairn/service-kit'
import { openPglite, type Sql } from '@cairn/service-kit/sql'
import { afterEach } from 'vitest'
import { handshakeFor, pipelinedUpgradeSuite } from '../../service-kit/test/pipelined-upgrade-suite.ts'
import { RiskGuard } from '../src/risk/guard.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import { EventHub } from '../src/service/events.ts'
import { ConfigStore } from '../src/store/config-store.ts'
import { migrateArb } from '../src/store/migrations.ts'
import { ArbStore } from '../src/store/store.ts'

const VIEWER = 'viewer-key-0123456789abcdef'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** The API on PGlite with a stream, listening on loopback; `close` is idempotent. */
async function api(maxConnectionsPerIp: number) {
  const sql: Sql = await openPglite(null)
  cleanups.push(() => sql.close())
  await migrateArb(sql)
  const health = new HealthChecks()
  const app = createArbApi(
    {
      auth: { jwtSecret: null, apiKeys: [{ name: 'watcher', role: 'viewer', key: VIEWER }] },
      edge: { ...DEFAULT_EDGE, maxConnectionsPerIp },
    },
    {
      store: new ArbStore(sql),
      config: new ConfigStore(sql),
      guard: new RiskGuard({ killFile: '/tmp/never' }, { exists: () => false }),
      registry: createMetricsRegistry({ version: 't', commit: 't' }),
      health,
      logger: createLogger({ level: 'silent', format: 'json' }),
      status: () => ({}),
      events: new EventHub(),
    },
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= app.close()
    return closing
  }
  cleanups.push(close)
  return { app, close }
}

pipelinedUpgradeSuite({
  service: 'the arbitrage API',
  aheadPath: '/health',
  handshake: () => handshakeFor(`/v1/stream?token=${VIEWER}`),
  next: `GET /v1/status HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${VIEWER}\r\n\r\n`,
  start: api,
})
