import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EchoServer, echoServer, responses, talk } from './wire.ts'

// A request Node's parser refuses, on a connection whose client goes on sending (a pipelined
// stream): Fastify's default answered 400 and destroyed the socket while bytes were still coming,
// so the kernel reset the connection and the client lost what it had not read yet — the 400, and
// the answer to the request before it (about one exchange in five here, with the lane and without).
describe('a bad request on a connection that still sends', () => {
  let servers: [string, EchoServer][] = []
  beforeAll(async () => {
    servers = [
      ['with the fast lane', await echoServer({ fastLane: true })],
      ['without it', await echoServer({ fastLane: false })],
    ]
  })
  afterAll(async () => {
    for (const [, s] of servers) await s.close()
  })

  const post = (id: number, line = 'POST / HTTP/1.1') => {
    const body = `{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`
    return `${line}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nHost: localhost\r\n\r\n${body}`
  }
  // A good request, one with a lowercase method (llhttp: HPE_INVALID_METHOD), then more, in pieces
  // (the stream and cuts of a failing run of the fast lane's property test).
  const stream = Buffer.from(`${post(1)}${post(2, 'post / HTTP/1.1')}${post(3)}${post(4)}${post(5)}`)
  const pieces = [0, 79, 194, 275, 373, 414, 534].map((from, i, all) =>
    stream.subarray(from, all[i + 1] ?? stream.length),
  )

  it('gets its 400 every time, after the answers before it, and then the connection ends', async () => {
    for (let i = 0; i < 20; i++) {
      // Both at once, as the property test talks to them (the timing that lost answers).
      const heards = await Promise.all(servers.map(([, s]) => talk(s.port, pieces, { gapMs: 1, quietMs: 1500 })))
      for (const [k, heard] of heards.entries()) {
        const name = (servers[k] as [string, EchoServer])[0]
        const { list, rest } = responses(heard.bytes)
        expect(rest, name).toBe('')
        expect(list.at(-1)?.status, `${name}, exchange ${i}`).toBe(400)
        expect(list.at(-1)?.body).toBe('{"error":"Bad Request","message":"Client Error","statusCode":400}')
        // Nothing after the refused request is answered; the lane answers the one before it.
        for (const r of list.slice(0, -1)) expect(r.body).toBe('{"jsonrpc":"2.0","id":1,"result":"echo:eth_chainId"}')
        expect(heard.end, name).toBe('closed')
      }
    }
  })
})
