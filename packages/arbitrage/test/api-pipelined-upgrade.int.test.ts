// An upgrade request pipelined behind another request on the API port (`GET /health`, then a
// WebSocket handshake or a `POST /` with `Upgrade: websocket`, in one packet). Node emits 'upgrade'
// for it while the answer ahead of it is still under way; @fastify/websocket could not take the
// socket then (ERR_HTTP_SOCKET_ASSIGNED, swallowed) and nothing owned it: the connection stayed
// open after the client went, counted against its IP's cap, and close() waited on it for ever.
// service-kit's `orderUpgrades` makes it wait for the answers ahead of it. Every wait here is on an
// event, bounded far above what it takes.
import type { Socket } from 'node:net'
import { createLogger, createMetricsRegistry, HealthChecks } from '@cairn/service-kit'
import { openPglite, type Sql } from '@cairn/service-kit/sql'
import { afterEach, describe, expect, it } from 'vitest'
import { rawConnection, statuses, within } from '../../service-kit/test/raw-connection.ts'
import { RiskGuard } from '../src/risk/guard.ts'
import { createArbApi, DEFAULT_EDGE } from '../src/service/app.ts'
import { EventHub } from '../src/service/events.ts'
import { ConfigStore } from '../src/store/config-store.ts'
import { migrateArb } from '../src/store/migrations.ts'
import { ArbStore } from '../src/store/store.ts'

const BOUND_MS = 5_000
const VIEWER = 'viewer-key-0123456789abcdef'
const H = 'Host: localhost\r\n'
const HEALTH = `GET /health HTTP/1.1\r\n${H}\r\n`
const REFUSED_UPGRADE = `POST / HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`
const HANDSHAKE = `GET /v1/stream?token=${VIEWER} HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

const cleanups: (() => Promise<void>)[] = []
/** Both ends of every connection opened: destroyed first, so a leaked one cannot hold close(). */
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
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

describe('the arbitrage API: an upgrade request pipelined behind GET /health', () => {
  for (const leaves of ['destroy', 'end'] as const) {
    it(`POST / with Upgrade: closed when the client goes (${leaves}), not counted against the cap`, async () => {
      const { app } = await api(1)
      const c = await rawConnection(app.server, sockets)
      c.client.write(HEALTH + REFUSED_UPGRADE)
      await within(c.heard(/^HTTP\/1\.1 200 /), BOUND_MS, '/health answered')
      if (leaves === 'destroy') c.client.destroy()
      else c.client.end()
      await within(c.closed, BOUND_MS, 'the server closed the connection')
      // The cap of one connection per IP is free again: a new connection is served, not 429.
      const next = await rawConnection(app.server, sockets)
      next.client.write(`GET /v1/status HTTP/1.1\r\n${H}x-api-key: ${VIEWER}\r\n\r\n`)
      await within(next.heard(/^HTTP\/1\.1 \d{3} /), BOUND_MS, 'the next connection answered')
      expect(statuses(next.got())).toEqual([200])
    })
  }

  it('POST / with Upgrade: answered after /health, and close() does not wait on the connection', async () => {
    const { app, close } = await api(0)
    const c = await rawConnection(app.server, sockets)
    c.client.write(HEALTH + REFUSED_UPGRADE)
    await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 \d{3} /), BOUND_MS, 'both answered')
    expect(statuses(c.got())).toEqual([200, expect.any(Number)])
    // The client stays: the service's close() must not wait for it.
    await within(close(), BOUND_MS, 'close()')
    await within(c.closed, BOUND_MS, 'the server closed the connection')
  })

  it('a /v1/stream handshake is upgraded after the /health answer; close() sends it 1001 and does not wait', async () => {
    const { app, close } = await api(0)
    const c = await rawConnection(app.server, sockets)
    c.client.write(HEALTH + HANDSHAKE)
    await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 101 [\s\S]*"hello"/), BOUND_MS, '200, 101, hello')
    expect(statuses(c.got())).toEqual([200, 101])
    // The client sends nothing more (no close frame): close() must not wait for one.
    await within(close(), BOUND_MS, 'close()')
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    const got = Buffer.from(await within(c.heard(/server shutting down$/), BOUND_MS, 'the close frame'), 'latin1')
    const frame = got.subarray(got.lastIndexOf(0x88))
    expect([frame[0], frame[1], frame.readUInt16BE(2)]).toEqual([0x88, frame.length - 2, 1001])
  })
})
