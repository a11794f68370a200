// The fast lane against the full server: the same requests, on raw keep-alive connections
// (pipelined, mixed with requests only Fastify serves), to one RpcServer with the lane and one
// without, must get the same answers — status, headers (all but Date, and the request id where
// the server makes one) and body, in order. Then the lane's own duties: a request that does not
// arrive in time, a client that half-closes, close().
import { connect } from 'node:net'
import { hashApiKey } from '@cairn/service-kit'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { RpcServerOptions } from '../../src/index.ts'
import { type EchoServer, echoServer as startEchoServer } from './wire.ts'

const servers: EchoServer[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

/** An RpcServer whose dispatcher echoes each call's method and id (wire.ts), closed after the tests. */
async function echoServer(opts: Partial<RpcServerOptions>, bodyLimit = 4096): Promise<EchoServer> {
  const server = await startEchoServer(opts, bodyLimit)
  servers.push(server)
  return server
}

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

/** Sends `raw` on one connection (all at once: pipelined) and reads `count` answers, or until the server closes. */
function exchange(port: number, raw: string, count: number): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    const answers: Answer[] = []
    const done = () => {
      socket.destroy()
      resolve(answers)
    }
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) break
        const lines = buf.toString('latin1', 0, end).split('\r\n')
        const status = Number(lines[0]?.split(' ')[1])
        const headers: Record<string, string> = {}
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':')
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
        }
        const length = Number(headers['content-length'] ?? 0)
        if (buf.length < end + 4 + length) break
        answers.push({ status, headers, body: buf.toString('utf8', end + 4, end + 4 + length) })
        buf = buf.subarray(end + 4 + length)
        if (answers.length === count) return done()
      }
    })
    socket.on('close', () => resolve(answers))
    socket.on('error', reject)
    socket.write(raw)
  })
}

/** An answer without what differs by design between two servers or two runs (whether they are there is kept). */
function normal(a: Answer, givenId: boolean): Answer & { dated: boolean; named: boolean } {
  const { date, 'x-request-id': id, ...headers } = a.headers
  if (date !== undefined) expect(date).toMatch(/GMT$/)
  if (id !== undefined && !givenId) expect(id).toMatch(/^[0-9a-f-]{36}$/)
  else if (id !== undefined) headers['x-request-id'] = id
  return { ...a, headers, dated: date !== undefined, named: id !== undefined }
}

const bodies = fc.oneof(
  fc
    .record({
      jsonrpc: fc.constant('2.0'),
      id: fc.nat(),
      method: fc.constantFrom('eth_chainId', 'eth_getBalance', 'admin_peers'),
    })
    .map((b) => JSON.stringify(b)),
  fc.constant('[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":2,"method":"net_version"}]'),
  fc.constant('{"jsonrpc":"2.0","method":"eth_chainId"}'),
  fc.constant('{"jsonrpc":'),
  fc.constant(''),
  fc.constant('{"jsonrpc":"2.0","id":"é✓","method":"eth_chainId"}'),
  fc.constant(`{"jsonrpc":"2.0","id":1,"method":"eth_call","pad":"${'a'.repeat(5000)}"}`),
)

/** One request: mostly plain POSTs (the lane's), some that only the full server serves. */
const requests = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      body: bodies,
      id: fc.option(fc.constantFrom('req-1', 'abc_DEF.9'), { nil: undefined }),
      type: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
      host: fc.constantFrom('localhost', '127.0.0.1:1', 'evil.example.com', undefined),
      auth: fc.constantFrom(undefined, 'Bearer good-key', 'Bearer bad-key'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('GET /health', 'GET /', 'GET /nope', 'OPTIONS /')
      .map((line) => ({ kind: 'get' as const, line })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cors' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'chunked' as const }) },
)
type Req = typeof requests extends fc.Arbitrary<infer T> ? T : never

function render(r: Req): string {
  if (r.kind === 'get') return `${r.line} HTTP/1.1\r\nHost: localhost\r\n\r\n`
  if (r.kind === 'cors') {
    const body = '{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}'
    return `POST / HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  }
  if (r.kind === 'chunked') {
    const body = '{"jsonrpc":"2.0","id":8,"method":"eth_chainId"}'
    return `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
  }
  const headers = [`Content-Type: ${r.type}`, `Content-Length: ${Buffer.byteLength(r.body)}`]
  if (r.host !== undefined) headers.unshift(`Host: ${r.host}`)
  if (r.id) headers.push(`X-Request-Id: ${r.id}`)
  if (r.auth) headers.push(`Authorization: ${r.auth}`)
  return `POST / HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${r.body}`
}

/** A plain POST of `body` (the lane's kind of request). */
function plainPost(body: string): string {
  return render({ kind: 'post', body, id: undefined, type: 'application/json', host: 'localhost', auth: undefined })
}

/** Sends `reqs` pipelined on one connection to each server; the answers must be the same, in order. */
async function expectSameAnswers(lanePort: number, fullPort: number, reqs: Req[]): Promise<void> {
  const raw = reqs.map(render).join('')
  const [a, b] = await Promise.all([exchange(lanePort, raw, reqs.length), exchange(fullPort, raw, reqs.length)])
  expect(a.length).toBe(b.length)
  a.forEach((answer, i) => {
    const r = reqs[i] as Req
    const givenId = r.kind === 'post' && r.id !== undefined
    expect(normal(answer, givenId), JSON.stringify(r)).toEqual(normal(b[i] as Answer, givenId))
  })
}

describe('the fast lane answers as the full server does', () => {
  const settings: [string, Partial<RpcServerOptions>][] = [
    ['defaults', {}],
    ['every origin and host allowed', { cors: ['*'], vhosts: ['*'] }],
    [
      'auth and rate limits on',
      {
        auth: {
          enabled: true,
          apiKeys: [{ name: 'ops', keyHash: hashApiKey('good-key'), role: 'admin' }],
          jwtSecret: null,
          jwtRole: 'public',
          jwks: null,
        },
        rateLimit: { enabled: true, windowMs: 60_000, perIp: 40, perKey: 40, onStoreError: 'open' },
      },
    ],
  ]
  for (const [name, opts] of settings) {
    it(`${name}: the same answers, in order, on pipelined keep-alive connections`, async () => {
      const lane = await echoServer({ ...opts, fastLane: true })
      const full = await echoServer({ ...opts, fastLane: false })
      await fc.assert(
        fc.asyncProperty(fc.array(requests, { minLength: 1, maxLength: 8 }), async (reqs) => {
          await expectSameAnswers(lane.port, full.port, reqs)
        }),
        { numRuns: 60 },
      )
      // The lane took the plain ones and handed connections over at the others.
      const page = await lane.registry.metrics()
      expect(Number(/fast_lane_requests_total\{outcome="answered"\} (\d+)/.exec(page)?.[1])).toBeGreaterThan(0)
      expect(Number(/fast_lane_requests_total\{outcome="handed_over"\} (\d+)/.exec(page)?.[1])).toBeGreaterThan(0)
    }, 60_000)
  }

  it('the same heads again and again (remembered per connection), between others: the same answers as the full server', async () => {
    const lane = await echoServer({ fastLane: true })
    const full = await echoServer({ fastLane: false })
    // A few requests, sent many times in any order: a head seen before on the connection is
    // matched by its bytes, and one that differs (another length, host, type, a GET) is scanned.
    const pools = fc.array(requests, { minLength: 1, maxLength: 4 })
    await fc.assert(
      fc.asyncProperty(
        pools.chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: 2, maxLength: 16 })),
        async (reqs) => {
          await expectSameAnswers(lane.port, full.port, reqs)
        },
      ),
      { numRuns: 40 },
    )
  }, 60_000)

  it('a request split across many writes is answered once it is whole', async () => {
    const { port } = await echoServer({})
    const raw = plainPost('{"jsonrpc":"2.0","id":5,"method":"eth_chainId"}')
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let got = ''
      socket.on('data', (d) => {
        got += d
        if (got.includes('echo:')) {
          socket.destroy()
          resolve(got)
        }
      })
      socket.on('error', reject)
      let i = 0
      const drip = () => {
        if (i >= raw.length) return
        socket.write(raw.slice(i, i + 7))
        i += 7
        setTimeout(drip, 1)
      }
      drip()
    })
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(answer).toContain('{"jsonrpc":"2.0","id":5,"result":"echo:eth_chainId"}')
  })

  it('a large body in many chunks, and many pipelined requests sent before any answer is read, all answered in order', async () => {
    const { port } = await echoServer({}, 8 * 1024 * 1024)
    const big = JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'eth_call', pad: 'x'.repeat(3 * 1024 * 1024) })
    const small = (i: number) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'eth_chainId' })
    const post = plainPost
    const raw = [post(big), ...Array.from({ length: 2000 }, (_, i) => post(small(i)))].join('')
    const answers = await exchange(port, raw, 2001)
    expect(answers.length).toBe(2001)
    expect(JSON.parse((answers[0] as Answer).body).id).toBe('big')
    expect(answers.slice(1).map((a) => JSON.parse(a.body).id)).toEqual(Array.from({ length: 2000 }, (_, i) => i))
    // With a 4 KiB body limit the same 2,000 requests (~300 KB) outgrow what the lane holds while
    // one is answered: the socket is paused and resumed, and nothing is lost or reordered.
    const tight = await echoServer({})
    const slow = post(JSON.stringify({ jsonrpc: '2.0', id: 'slow', method: 'test_slow' }))
    const smalls = await exchange(tight.port, slow + raw.slice(post(big).length), 2001)
    expect(smalls.map((a) => JSON.parse(a.body).id)).toEqual(['slow', ...Array.from({ length: 2000 }, (_, i) => i)])
  })

  it('answers written now, promised answers and failing dispatches, pipelined, in order on one connection', async () => {
    const { port, lane } = await echoServer({})
    const methods = ['eth_chainId', 'test_slow', 'test_throw', 'eth_chainId', 'test_reject', 'eth_chainId']
    // 20,000 requests written at once, most answered now: the lane reads them in a loop, not a recursion.
    const ids = Array.from({ length: 20_000 }, (_, i) => i)
    const raw = ids
      .map((i) => plainPost(JSON.stringify({ jsonrpc: '2.0', id: i, method: i < 12 ? methods[i % 6] : 'eth_chainId' })))
      .join('')
    const answers = await exchange(port, raw, ids.length)
    expect(answers.length).toBe(ids.length)
    answers.forEach((a, i) => {
      const m = i < 12 ? methods[i % 6] : 'eth_chainId'
      if (m === 'test_throw' || m === 'test_reject') {
        // A dispatcher's failure is a bug: 500 and the internal error, and the connection goes on.
        expect(a.status).toBe(500)
        expect(JSON.parse(a.body).error.code).toBe(-32603)
      } else {
        expect(a.status).toBe(200)
        expect(JSON.parse(a.body)).toEqual({ jsonrpc: '2.0', id: i, result: `echo:${m}` })
      }
    })
    expect((await lane()).handedOver).toBe(0)
  })

  it('answers a client that half-closes after its request, then closes', async () => {
    const { port } = await echoServer({})
    const raw = plainPost('{"jsonrpc":"2.0","id":6,"method":"eth_chainId"}')
    const got = await new Promise<string>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
      let text = ''
      socket.on('data', (d) => {
        text += d
      })
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
      socket.end(raw)
    })
    expect(got).toContain('"id":6')
  })

  it('408s a request whose head does not arrive in requestTimeoutMs; close() ends the connections it holds', async () => {
    const { server, port } = await echoServer({ requestTimeoutMs: 300 })
    const slow = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let text = ''
      socket.on('data', (d) => {
        text += d
      })
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
      socket.write('POST / HTTP/1.1\r\nHost: localhost\r\n')
    })
    expect(slow).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    // An idle keep-alive connection held by the lane ends with the server.
    const closed = new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(plainPost('{"jsonrpc":"2.0","id":1,"method":"x"}'))
      })
      socket.on('data', () => void server.close())
      socket.on('close', () => resolve())
      socket.on('error', () => {})
    })
    await closed
  })
})
