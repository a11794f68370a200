// The pipelined-upgrade tests every service behind `guardFastifyWebSockets` runs (arbitrage,
// reserves): an upgrade request pipelined behind another request, in one packet. Node emits
// 'upgrade' for it while the answer ahead of it is still under way; @fastify/websocket could not
// take the socket then (ERR_HTTP_SOCKET_ASSIGNED, swallowed) and nothing owned it: the connection
// stayed open after the client went, counted against its IP's cap, and close() waited on it for
// ever. `orderUpgrades` makes it wait for the answers ahead of it. Every wait is on an event,
// bounded far above what it takes.
import type { Server, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { rawConnection, statuses, within } from './raw-connection.ts'

const BOUND_MS = 5_000
const H = 'Host: localhost\r\n'
const REFUSED_UPGRADE = `POST / HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`

/** A WebSocket handshake for `GET <pathAndQuery>`. */
export const handshakeFor = (pathAndQuery: string): string =>
  `GET ${pathAndQuery} HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

/** A service listening on loopback; `close` is idempotent. */
export interface ListeningService {
  app: { server: Server }
  close(): Promise<void>
}

export interface PipelinedUpgradeSuite {
  /** What the describe names (`the arbitrage API`). */
  service: string
  /** The path of the GET answered ahead of the upgrade (200, no authentication). */
  aheadPath: string
  /** A `/v1/stream` handshake the service accepts (a fresh token each time, if it needs one). */
  handshake(): string
  /** A request the service answers 200, on a new connection once the cap is free again. */
  next: string
  /** Starts the service with that per-IP connection cap (0: none); the caller closes it after each test. */
  start(maxConnectionsPerIp: number): Promise<ListeningService>
}

export function pipelinedUpgradeSuite(s: PipelinedUpgradeSuite): void {
  const ahead = `GET ${s.aheadPath} HTTP/1.1\r\n${H}\r\n`
  describe(`${s.service}: an upgrade request pipelined behind GET ${s.aheadPath}`, () => {
    /** Both ends of every connection opened: destroyed first, so a leaked one cannot hold close(). */
    const sockets = new Set<Socket>()
    afterEach(() => {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    })

    for (const leaves of ['destroy', 'end'] as const) {
      it(`POST / with Upgrade: closed when the client goes (${leaves}), not counted against the cap`, async () => {
        const { app } = await s.start(1)
        const c = await rawConnection(app.server, sockets)
        c.client.write(ahead + REFUSED_UPGRADE)
        await within(c.heard(/^HTTP\/1\.1 200 /), BOUND_MS, `${s.aheadPath} answered`)
        if (leaves === 'destroy') c.client.destroy()
        else c.client.end()
        await within(c.closed, BOUND_MS, 'the server closed the connection')
        // The cap of one connection per IP is free again: a new connection is served, not 429.
        const next = await rawConnection(app.server, sockets)
        next.client.write(s.next)
        await within(next.heard(/^HTTP\/1\.1 \d{3} /), BOUND_MS, 'the next connection answered')
        expect(statuses(next.got())).toEqual([200])
      })
    }

    it(`POST / with Upgrade: answered after ${s.aheadPath}, and close() does not wait on the connection`, async () => {
      const { app, close } = await s.start(0)
      const c = await rawConnection(app.server, sockets)
      c.client.write(ahead + REFUSED_UPGRADE)
      await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 \d{3} /), BOUND_MS, 'both answered')
      expect(statuses(c.got())).toEqual([200, expect.any(Number)])
      // The client stays: the service's close() must not wait for it.
      await within(close(), BOUND_MS, 'close()')
      await within(c.closed, BOUND_MS, 'the server closed the connection')
    })

    it(`a /v1/stream handshake is upgraded after the ${s.aheadPath} answer; close() sends it 1001 and does not wait`, async () => {
      const { app, close } = await s.start(0)
      const c = await rawConnection(app.server, sockets)
      c.client.write(ahead + s.handshake())
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
}
