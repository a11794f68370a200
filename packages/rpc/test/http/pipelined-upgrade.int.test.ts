// An upgrade request pipelined behind another request (`GET /health`, then a WebSocket handshake or
// a `POST /` with `Upgrade: websocket`, in one packet). Node emits 'upgrade' for it while the
// answer ahead of it is still under way; @fastify/websocket could not take the socket then
// (ERR_HTTP_SOCKET_ASSIGNED, swallowed) and nothing owned it: the connection stayed open after the
// client went, counted against its IP's cap, and close() waited on it for ever. Now it waits for
// the answers ahead of it and is then served as if sent alone. Every wait here is on an event,
// bounded far above what it takes (the server closes these at once, or after requestTimeoutMs).
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { rawConnection, statuses, within } from '../../../service-kit/test/raw-connection.ts'
import { echoServer } from './wire.ts'

const BOUND_MS = 5_000
const REQUEST_TIMEOUT_MS = 1_000
const H = 'Host: localhost\r\n'
const HEALTH = `GET /health HTTP/1.1\r\n${H}\r\n`
const HANDSHAKE = `GET / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
/** Upgrade requests the server refuses (no WebSocket key, or not a GET). */
const REFUSED = {
  'POST / with Upgrade': `POST / HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`,
  'POST / with Upgrade and a body': `POST / HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 2\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n{}`,
  'GET / with Upgrade, no key': `GET / HTTP/1.1\r\n${H}Connection: upgrade\r\nUpgrade: websocket\r\n\r\n`,
}

const cleanups: (() => Promise<void>)[] = []
/** Both ends of every connection opened: destroyed first, so a leaked one cannot hold a server's close(). */
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  for (const c of cleanups.splice(0)) await c()
})

describe.each([true, false])('a pipelined upgrade request (fast lane %s)', (fastLane) => {
  async function server(opts: { maxConnectionsPerIp?: number; wsPingIntervalMs?: number } = {}) {
    const s = await echoServer({ fastLane, requestTimeoutMs: REQUEST_TIMEOUT_MS, ...opts })
    cleanups.push(() => s.close())
    return s
  }

  for (const [name, upgrade] of Object.entries(REFUSED)) {
    for (const leaves of ['destroy', 'end'] as const) {
      it(`${name} behind GET /health: closed when the client goes (${leaves}), not counted against the cap`, async () => {
        const s = await server({ maxConnectionsPerIp: 1 })
        const c = await rawConnection(s.server.app.server, sockets)
        c.client.write(HEALTH + upgrade)
        await within(c.heard(/^HTTP\/1\.1 200 /), BOUND_MS, '/health answered')
        if (leaves === 'destroy') c.client.destroy()
        else c.client.end()
        await within(c.closed, BOUND_MS, 'the server closed the connection')
        // The cap of one connection per IP is free again: a new connection is served, not 429.
        const next = await rawConnection(s.server.app.server, sockets)
        next.client.write(HEALTH)
        await within(next.heard(/^HTTP\/1\.1 \d{3} /), BOUND_MS, 'the next connection answered')
        expect(statuses(next.got())).toEqual([200])
        next.client.destroy()
      })
    }

    it(`${name} behind GET /health: refused after the /health answer, and close() does not wait on it`, async () => {
      const s = await server()
      const c = await rawConnection(s.server.app.server, sockets)
      c.client.write(HEALTH + upgrade)
      await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 4\d\d /), BOUND_MS, 'both answered')
      expect(statuses(c.got())).toEqual([200, expect.any(Number)])
      // The client stays: the server's own close() must not wait for it.
      await within(s.server.close(), BOUND_MS, 'close()')
      await within(c.closed, BOUND_MS, 'the server closed the connection')
    })
  }

  it('a WebSocket handshake behind GET /health is upgraded after the /health answer and served; abandoned, pings close it', async () => {
    const s = await server({ wsPingIntervalMs: 200 })
    const c = await rawConnection(s.server.app.server, sockets)
    // A JSON-RPC call in a text frame follows in the same packet (masked, with a zero key).
    const call = Buffer.from('{"jsonrpc":"2.0","id":7,"method":"test_ws"}')
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | call.length, 0, 0, 0, 0]), call])
    c.client.write(Buffer.concat([Buffer.from(HEALTH + HANDSHAKE), frame]))
    await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 101 [\s\S]*echo:test_ws/), BOUND_MS, '200, 101, answer')
    expect(statuses(c.got())).toEqual([200, 101])
    // The client answers no ping: it is terminated after two intervals.
    await within(c.closed, BOUND_MS, 'the server closed the abandoned WebSocket')
    c.client.destroy()
  })
})

describe('an upgrade behind an answer that does not come', () => {
  async function hangingReady() {
    // `/ready` never answers.
    const s = await echoServer({ fastLane: false, requestTimeoutMs: 500 }, 4096, { run: () => new Promise(() => {}) })
    let closed = false
    cleanups.push(async () => {
      if (!closed) await s.close()
    })
    return {
      server: s.server,
      close: () => {
        closed = true
        return s.server.close()
      },
    }
  }

  it('is closed after requestTimeoutMs', async () => {
    const { server } = await hangingReady()
    const c = await rawConnection(server.app.server, sockets)
    c.client.write(`GET /ready HTTP/1.1\r\n${H}\r\n${HANDSHAKE}`)
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    expect(c.got()).toBe('')
    c.client.destroy()
  })

  it('does not hold close()', async () => {
    const { server, close } = await hangingReady()
    const c = await rawConnection(server.app.server, sockets)
    c.client.write(`GET /ready HTTP/1.1\r\n${H}\r\n${HANDSHAKE}`)
    // The upgrade reached the server (the request ahead of it is under way) before close().
    await within(
      new Promise((r) => server.app.server.prependOnceListener('upgrade', () => setImmediate(r))),
      BOUND_MS,
      'upgrade',
    )
    await within(close(), BOUND_MS, 'close()')
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    c.client.destroy()
  })
})

describe('an abandoned WebSocket', () => {
  it('gets 1001 and does not hold close() (ws would wait 30 s for its close frame)', async () => {
    const s = await echoServer({})
    let closed = false
    cleanups.push(async () => {
      if (!closed) await s.close()
    })
    const c = await rawConnection(s.server.app.server, sockets)
    c.client.write(HANDSHAKE)
    await within(c.heard(/^HTTP\/1\.1 101 [^\r]*\r\n[\s\S]*\r\n\r\n/), BOUND_MS, '101')
    // The client sends nothing more (no close frame, no pong).
    closed = true
    await within(s.server.close(), BOUND_MS, 'close()')
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    const got = Buffer.from(await within(c.heard(/server shutting down$/), BOUND_MS, 'the close frame'), 'latin1')
    // After the 101's head, an unmasked close frame: FIN + opcode 8, its length, then the code 1001.
    const frame = got.subarray(got.indexOf('\r\n\r\n') + 4)
    expect([frame[0], frame[1], frame.readUInt16BE(2)]).toEqual([0x88, frame.length - 2, 1001])
    c.client.destroy()
  })
})
