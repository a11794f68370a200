// orderUpgrades on a bare node:http server, with an 'upgrade' listener that takes the socket the
// way @fastify/websocket does (a ServerResponse assigned to it). Every wait is on an event, bounded
// far above what it takes.
import { type IncomingMessage, type Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpServer } from '../src/edge/http-server.ts'
import { orderUpgrades } from '../src/edge/ordered-upgrades.ts'
import { rawConnection, within } from './raw-connection.ts'

const BOUND_MS = 5_000
const H = 'Host: localhost\r\n'
const FAST = `GET /fast HTTP/1.1\r\n${H}\r\n`
const UPGRADE = `GET /ws HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`

const cleanups: (() => Promise<void>)[] = []
const sockets = new Set<Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  for (const c of cleanups.splice(0)) await c()
})

/**
 * A server answering `/fast` at once and `/slow` never, whose 'upgrade' listener takes the socket
 * as @fastify/websocket does and answers 101; `errors` holds what taking it threw.
 */
async function server(requestTimeoutMs: number) {
  const s: Server = createHttpServer(null, requestTimeoutMs, (req, res) => {
    if (req.url === '/fast') res.end('ok')
  })
  const errors: string[] = []
  const upgraded: Socket[] = []
  s.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    try {
      new ServerResponse(req).assignSocket(socket)
    } catch (err) {
      errors.push((err as NodeJS.ErrnoException).code ?? String(err))
      return
    }
    upgraded.push(socket)
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())))
  return { s, errors, upgraded }
}

/** Resolves on the next 'upgrade' the server emits, once its listeners have run. */
const nextUpgrade = (s: Server) => new Promise<void>((r) => s.prependOnceListener('upgrade', () => setImmediate(r)))

describe('orderUpgrades', () => {
  it('the cause: without it, an upgrade pipelined behind a request reaches the listener while the answer owns the socket', async () => {
    const { s, errors } = await server(1_000)
    const c = await rawConnection(s, sockets, false)
    const emitted = nextUpgrade(s)
    c.client.write(`GET /slow HTTP/1.1\r\n${H}\r\n${UPGRADE}`)
    await within(emitted, BOUND_MS, 'upgrade')
    expect(errors).toEqual(['ERR_HTTP_SOCKET_ASSIGNED'])
  })

  it('passes an upgrade sent alone at once', async () => {
    const { s, errors } = await server(1_000)
    const ordered = orderUpgrades(s, 1_000)
    const c = await rawConnection(s, sockets, false)
    c.client.write(UPGRADE)
    await within(c.heard(/^HTTP\/1\.1 101 /), BOUND_MS, '101')
    expect(errors).toEqual([])
    expect(ordered.waiting).toBe(0)
  })

  it('passes a pipelined upgrade once the answer ahead of it is sent', async () => {
    const { s, errors, upgraded } = await server(1_000)
    const ordered = orderUpgrades(s, 1_000)
    const c = await rawConnection(s, sockets, false)
    c.client.write(FAST + FAST + UPGRADE)
    await within(c.heard(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 101 /), BOUND_MS, '200, 200, 101')
    expect(errors).toEqual([])
    expect(upgraded).toHaveLength(1)
    expect(ordered.waiting).toBe(0)
  })

  it('closes the connection, without upgrading, when the answer ahead of it ends it (Connection: close)', async () => {
    const { s, errors, upgraded } = await server(1_000)
    orderUpgrades(s, 1_000)
    const c = await rawConnection(s, sockets, false)
    c.client.write(`GET /fast HTTP/1.1\r\n${H}Connection: close\r\n\r\n${UPGRADE}`)
    await within(c.ended, BOUND_MS, 'the server closed the connection')
    expect(c.got()).toMatch(/^HTTP\/1\.1 200 /)
    expect(c.got()).not.toMatch(/ 101 /)
    expect([errors, upgraded]).toEqual([[], []])
  })

  it('closes a connection whose upgrade waited requestTimeoutMs', async () => {
    const { s, upgraded } = await server(60_000)
    const ordered = orderUpgrades(s, 300)
    const c = await rawConnection(s, sockets, false)
    const emitted = nextUpgrade(s)
    c.client.write(`GET /slow HTTP/1.1\r\n${H}\r\n${UPGRADE}`)
    await within(emitted, BOUND_MS, 'upgrade')
    expect(ordered.waiting).toBe(1)
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    expect(ordered.waiting).toBe(0)
    expect(upgraded).toEqual([])
  })

  it('close() ends the connections still waiting, so the server closes', async () => {
    const { s } = await server(60_000)
    const ordered = orderUpgrades(s, 0)
    const c = await rawConnection(s, sockets, false)
    const emitted = nextUpgrade(s)
    c.client.write(`GET /slow HTTP/1.1\r\n${H}\r\n${UPGRADE}`)
    await within(emitted, BOUND_MS, 'upgrade')
    ordered.close()
    await within(c.closed, BOUND_MS, 'the server closed the connection')
    await within(new Promise<void>((r) => s.close(() => r())), BOUND_MS, 'server close')
    cleanups.length = 0
  })
})
