// Two Host headers name no one host: Node keeps the first for the virtual-host check, while a proxy
// or a later reader may route by the other. A request carrying two is answered 400 (Go's net/http:
// "too many Host headers") and never dispatched — on the fast lane's port (which hands a repeated
// header to Node) and on a server without it, for POSTs and WebSocket upgrades alike. A repeated
// Content-Length stays Node's 400.
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { type EchoServer, echoServer, responses } from './wire.ts'

const servers: EchoServer[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

const BODY = '{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}'
const post = (headers: string) =>
  Buffer.from(
    `POST / HTTP/1.1\r\n${headers}Content-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
    'latin1',
  )
const upgrade = (headers: string) =>
  Buffer.from(
    `GET / HTTP/1.1\r\n${headers}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    'latin1',
  )

/** Sends `request` on a new connection; resolves at its first whole response or when the server closes (no timer). */
function answer(server: EchoServer, request: Buffer) {
  return new Promise<{ status: number | undefined; body: string; rest: string }>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1')
    let got = Buffer.alloc(0)
    const done = () => {
      socket.destroy()
      const [first] = responses(got).list
      resolve({ status: first?.status, body: first?.body ?? '', rest: got.toString('latin1') })
    }
    socket.on('data', (d) => {
      got = Buffer.concat([got, d])
      if (responses(got).list.length > 0) done()
    })
    socket.on('close', done)
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)))
    socket.write(request)
  })
}

describe.each([
  ['the fast lane', true],
  ['Fastify alone', false],
])('%s', (_, fastLane) => {
  it('refuses two Host headers with 400 in either order, whatever the first names; one Host is served', async () => {
    const server = await echoServer({ fastLane })
    servers.push(server)
    const served = await answer(server, post('Host: localhost\r\n'))
    expect(served.status).toBe(200)
    expect(served.body).toContain('echo:eth_chainId')
    for (const hosts of [
      'Host: localhost\r\nHost: evil.example\r\n',
      'Host: evil.example\r\nHost: localhost\r\n',
      'Host: localhost\r\nhOsT: localhost\r\n',
    ]) {
      const r = await answer(server, post(hosts))
      expect(r.status, hosts).toBe(400)
      expect(r.body).toBe('400 Bad Request: too many Host headers')
      expect(r.rest).not.toContain('echo:')
    }
    const ws = await answer(server, upgrade('Host: localhost\r\nHost: evil.example\r\n'))
    expect(ws.status).toBe(400)
    expect(ws.rest).not.toContain('101 Switching Protocols')
    // A repeated Content-Length is still Node's own 400, never answered.
    const lengths = Buffer.from(
      `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
      'latin1',
    )
    const twice = await answer(server, lengths)
    expect(twice.status).toBe(400)
    expect(twice.rest).not.toContain('echo:')
  })
})
