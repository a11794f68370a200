// An upgrade request pipelined behind another request (`GET /docs`, then a WebSocket handshake or a
// `POST /` with `Upgrade: websocket`, in one packet): service-kit's shared suite
// (pipelined-upgrade-suite.ts says what it guards against).
import { silentLogger } from '@cairn/utils'
import { afterEach } from 'vitest'
import { handshakeFor, pipelinedUpgradeSuite } from '../../service-kit/test/pipelined-upgrade-suite.ts'
import { createReservesService, DEFAULT_SERVICE_OPTIONS } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { openTestSql } from './service-harness.ts'

const key = parseKeyFile('ab'.repeat(32))
const secret = new TextEncoder().encode('pipelined-upgrade-secret-0123456789')

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** The service on PGlite, listening on loopback; `close` is idempotent. */
async function service(maxConnectionsPerIp: number) {
  const db = await openTestSql('pglite')
  cleanups.push(() => db.close())
  const svc = createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, edge: { ...DEFAULT_SERVICE_OPTIONS.edge, maxConnectionsPerIp } },
    { sql: db.sql, key, logger: silentLogger },
  )
  await svc.app.listen({ host: '127.0.0.1', port: 0 })
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= svc.close()
    return closing
  }
  cleanups.push(close)
  return { app: svc.app, close }
}

pipelinedUpgradeSuite({
  service: 'the reserves service',
  aheadPath: '/docs',
  handshake: () =>
    handshakeFor(`/v1/stream?token=${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}`),
  next: 'GET /docs HTTP/1.1\r\nHost: localhost\r\n\r\n',
  start: service,
})
