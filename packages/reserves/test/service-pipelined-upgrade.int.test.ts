// An upgrade request pipelined behind another request (`GET /docs`, then a WebSocket handshake or a
// `POST /` with `Upgrade: websocket`, in one packet). Node emits 'upgrade' for it while the answer
// ahead of it is still under way; @fastify/websocket could not take the socket then
// (ERR_HTTP_SOCKET_ASSIGNED, swallowed) and nothing owned it: the connection stayed open after the
// client went, counted against its IP's cap, and close() waited on it for ever. service-kit's
// `orderUpgrades` makes it wait for the answers ahead of it. Every wait here is on an event,
// bounded far above what it takes.
import type { Socket } from 'node:net'
import { silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { rawConnection, statuses, within } from '../../service-kit/test/raw-connection.ts'
import { createReservesService, DEFAULT_SERVICE_OPTIONS } from '../src/service/app.ts'
import { parseKeyFile } from '../src/service/at-rest.ts'
import { signToken } from '../src/service/auth.ts'
import { openTestSql } from './service-harness.ts'

const BOUND_MS = 5_000
const key = parseKeyFile('ab'.repeat(32))
const secret = new TextEncoder().encode('pipelined-upgrade-secret-0123456789')
const H = 'Host: localhost\r\n'
const DOCS = `GET /docs HTTP/1.1\r\n${H}\r\n`
const REFUSED_UPGRADE = `POST / HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`
const handshake = () =>
  `GET /v1/stream?token=${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })} HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

const cleanups: (() => Promise<void>)[] = []
/** Both ends of every connection opened: destroyed first, so a leaked one cannot hold close(). */
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
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

describe('the reserves service: an upgrade request pipelined behind GET /docs', () => {
  for (const leaves of ['destroy', 'end'] as const) {
    it(`POST / with Upgrade: closed when the client goes (${leaves}), not counted against the cap`, async () => {
      const { app } = await service(1)
      const c = await rawConnection(app.server, sockets)
      c.client.write(DOCS + REFUSED_UPGRADE)
      await within(c.heard(/^HTTP\/1\.1 200 /), BOUND_MS, '/docs answered')
      if (leaves === 'destroy') c.client.destroy()
      else c.client.end()
      await within(c.closed, BOUND_MS, 'the server closed the connection')
      // The cap of one connection per IP is free again: a new connection is served, not 429.
      const next = await rawConnection(app.server, sockets)
      next.client.write(DOCS)
      await within(next.heard(/^HTTP\/1\.1 \d{3} /), BOUND_MS, 'the next connection answered')
      expect(statuses(next.got())).toEqual([200])
    })
  }

  it('POST / with Upgrade: answered after /docs, and close() does not wait on the connection', async () => {
    const { app, close } = await service(0)
    const c = await rawConnection(app.server, sockets)
    c.client.write(DOCS + REFUSED_UPGRADE)
    await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 \d{3} /), BOUND_MS, 'both answered')
    expect(statuses(c.got())).toEqual([200, expect.any(Number)])
    // The client stays: the service's close() must not wait for it.
    await within(close(), BOUND_MS, 'close()')
    await within(c.closed, BOUND_MS, 'the server closed the connection')
  })

  it('a /v1/stream handshake is upgraded after the /docs answer; close() sends it 1001 and does not wait', async () => {
    const { app, close } = await service(0)
    const c = await rawConnection(app.server, sockets)
    c.client.write(DOCS + handshake())
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
