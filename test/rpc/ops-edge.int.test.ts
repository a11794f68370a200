// The RPC edge over real HTTP/WebSocket transports: virtual hosts and CORS with geth's defaults,
// WebSocket origins, security headers, the per-IP connection cap (packages/rpc/test/accept-limits
// has the flood, the global limit and the first-byte timeout) and load shedding.
import { connect, type Socket } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FakeLag, rawRequest, stubServer, wsAttempt } from '../../packages/rpc/test/edge-server.ts'
import { type StartedNode, startDevNode } from './live-node.ts'

const servers: { close(): Promise<void> }[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

async function server(...args: Parameters<typeof stubServer>) {
  const s = await stubServer(...args)
  servers.push(s.server)
  return s
}

const metric = async (url: string, reason: string) => {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(new RegExp(`^cairn_rpc_refused_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
}

describe('virtual hosts (geth: --http.vhosts, default localhost)', () => {
  it('serves localhost and IP literals, refuses other names with 403, `*` allows all', async () => {
    const { url } = await server({})
    const port = new URL(url).port
    for (const host of [`localhost:${port}`, 'LOCALHOST', `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await rawRequest(url, { headers: { host } })).status, host).toBe(200)
    }
    const evil = await rawRequest(url, { headers: { host: `evil.example.com:${port}` } })
    expect(evil.status).toBe(403)
    expect(JSON.parse(evil.text).error).toEqual({ code: -32006, message: 'invalid host specified' })
    expect(await metric(url, 'invalid_host')).toBe(1)
    // Every route: /metrics and WebSocket upgrades too.
    expect(
      (await rawRequest(url, { method: 'GET', path: '/metrics', headers: { host: 'evil.example.com' } })).status,
    ).toBe(403)

    const any = await server({ vhosts: ['*'] })
    expect((await rawRequest(any.url, { headers: { host: 'evil.example.com' } })).status).toBe(200)
    const listed = await server({ vhosts: ['rpc.example.com'] })
    expect((await rawRequest(listed.url, { headers: { host: 'RPC.example.com:443' } })).status).toBe(200)
    expect((await rawRequest(listed.url, { headers: { host: 'localhost' } })).status).toBe(403)
  })

  it("an absolute-form target is checked by its own host, not the Host header's (RFC 9112 §3.2.2)", async () => {
    const { url } = await server({})
    // Node's HTTP client sends `path` as the request target verbatim: `POST http://evil.com/ HTTP/1.1`.
    const evil = await rawRequest(url, { path: 'http://evil.com/' })
    expect(evil.status).toBe(403)
    expect(JSON.parse(evil.text).error).toEqual({ code: -32006, message: 'invalid host specified' })
    // The authority form is CONNECT's only: Node's parser answers it 400 before the edge sees it.
    expect((await rawRequest(url, { path: 'evil.com:80' })).status).toBe(400)
  })
})

describe('CORS (geth: no cross-origin unless --http.corsdomain)', () => {
  const origin = 'https://app.example.com'

  it('by default no origin gets CORS headers, on POST or on a preflight', async () => {
    const { url } = await server({})
    const post = await rawRequest(url, { headers: { origin } })
    expect(post.status).toBe(200)
    expect(post.headers['access-control-allow-origin']).toBeUndefined()
    const pre = await rawRequest(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('a listed origin gets them (with the headers it asks for); others do not', async () => {
    const { url } = await server({ cors: [origin] })
    const pre = await rawRequest(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key,authorization',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe(origin)
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST')
    expect(String(pre.headers['access-control-allow-headers'])).toContain('x-api-key')
    const post = await rawRequest(url, { headers: { origin } })
    expect(post.headers['access-control-allow-origin']).toBe(origin)
    expect(String(post.headers['access-control-expose-headers'])).toContain('x-request-id')
    const other = await rawRequest(url, { headers: { origin: 'https://evil.example.com' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('`*` allows any origin', async () => {
    const { url } = await server({ cors: ['*'] })
    const post = await rawRequest(url, { headers: { origin: 'https://anything.example' } })
    expect(post.headers['access-control-allow-origin']).toBe('https://anything.example')
  })

  it('WebSocket upgrades: no Origin passes, a browser Origin must be listed (default: http://localhost)', async () => {
    const { url } = await server({})
    const none = await wsAttempt(url)
    expect(none.kind).toBe('open')
    if (none.kind === 'open') none.ws.close()
    const local = await wsAttempt(url, { origin: 'http://localhost:3000' })
    expect(local.kind).toBe('open')
    if (local.kind === 'open') local.ws.close()
    expect(await wsAttempt(url, { origin })).toEqual({ kind: 'refused', status: 403 })
    expect(await metric(url, 'origin_forbidden')).toBe(1)

    const listed = await server({ cors: [origin] })
    const ok = await wsAttempt(listed.url, { origin })
    expect(ok.kind).toBe('open')
    if (ok.kind === 'open') ok.ws.close()
    expect(await wsAttempt(listed.url, { origin: 'http://localhost:3000' })).toEqual({ kind: 'refused', status: 403 })
  })
})

describe('security headers (helmet)', () => {
  it("JSON answers carry a deny-all CSP, nosniff, no framing, and none of helmet's document-only headers; no HSTS on plain HTTP", async () => {
    const { url } = await server({})
    const r = await rawRequest(url, {})
    expect(JSON.parse(r.text).result).toBe('0x539')
    expect(r.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
    expect(r.headers['x-content-type-options']).toBe('nosniff')
    expect(r.headers['x-frame-options']).toBe('DENY')
    for (const documentOnly of [
      'referrer-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'origin-agent-cluster',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
    ]) {
      expect(r.headers[documentOnly], documentOnly).toBeUndefined()
    }
    expect(r.headers['strict-transport-security']).toBeUndefined()
    expect(r.headers['x-powered-by']).toBeUndefined()
    const m = await rawRequest(url, { method: 'GET', path: '/metrics' })
    expect(m.status).toBe(200)
    expect(m.headers['x-content-type-options']).toBe('nosniff')
  })
})

describe('keep-alive', () => {
  it("an idle connection is kept 120 s (geth's idle timeout), and clients are told so", async () => {
    const { url } = await server({})
    const u = new URL(url)
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    const head = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: u.hostname, port: Number(u.port) }, () =>
        s.write(
          `POST / HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      )
      let got = ''
      s.on('data', (c) => {
        got += String(c)
        if (got.includes('\r\n\r\n')) {
          s.destroy()
          resolve(got.slice(0, got.indexOf('\r\n\r\n')).toLowerCase())
        }
      })
      s.on('error', reject)
    })
    expect(head).toContain('connection: keep-alive')
    // undici and others read the hint and close their idle sockets first (Node's own default is
    // 5 s: a client reusing a socket the server was closing got ECONNRESET, "fetch failed")
    expect(head).toContain('keep-alive: timeout=120')
  })
})

describe('per-IP connection cap', () => {
  const held: Socket[] = []
  afterEach(() => {
    for (const s of held.splice(0)) s.destroy()
  })
  const hold = (url: string, localAddress: string) =>
    new Promise<Socket>((resolve, reject) => {
      const u = new URL(url)
      const s = connect({ host: u.hostname, port: Number(u.port), localAddress }, () => resolve(s))
      s.on('error', reject)
      held.push(s)
    })

  it('past the cap a connection from that IP is closed as it arrives (HTTP and WebSocket alike), counted; others are served', async () => {
    const { url } = await server({ maxConnectionsPerIp: 2 })
    await hold(url, '127.0.0.7')
    await hold(url, '127.0.0.7')
    await expect(rawRequest(url, { localAddress: '127.0.0.7' })).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/)
    const ws = await wsAttempt(url, { localAddress: '127.0.0.7' })
    expect(ws.kind).toBe('closed')
    expect((await rawRequest(url, { localAddress: '127.0.0.8' })).status).toBe(200)
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(text).toMatch(/^cairn_rpc_connections_refused_total\{reason="per_ip"\} 2$/m)

    // Freeing one slot lets the IP in again.
    held.pop()?.destroy()
    const served = async () =>
      (await rawRequest(url, { localAddress: '127.0.0.7' }).catch(() => ({ status: 0 }))).status
    const until = Date.now() + 5_000
    while ((await served()) !== 200) {
      if (Date.now() > until) throw new Error('the IP was not let in again')
      await new Promise((r) => setTimeout(r, 20))
    }
  })
})

describe('behind a proxy (http.trustProxy)', () => {
  const limits = { enabled: true, windowMs: 60_000, perIp: 2, perKey: 100, onStoreError: 'open' as const }
  const from = (url: string, xff: string) => rawRequest(url, { headers: { 'x-forwarded-for': xff } })

  it('a trusted proxy names the client: each forwarded IP has its own budget', async () => {
    const { url } = await server({ rateLimit: limits, trustProxy: ['127.0.0.1'] })
    expect((await from(url, '10.0.0.1')).status).toBe(200)
    expect((await from(url, '10.0.0.1')).status).toBe(200)
    expect((await from(url, '10.0.0.1')).status).toBe(429)
    expect((await from(url, '10.0.0.2')).status).toBe(200)
  })

  it('without it X-Forwarded-For is ignored: the socket address is the client', async () => {
    const { url } = await server({ rateLimit: limits })
    expect((await from(url, '10.0.0.1')).status).toBe(200)
    expect((await from(url, '10.0.0.2')).status).toBe(200)
    expect((await from(url, '10.0.0.3')).status).toBe(429)
  })
})

describe('load shedding', () => {
  it('while the lag is past the threshold: 503 + Retry-After (HTTP and WebSocket messages), /health still 200', async () => {
    const lag = new FakeLag()
    const { url } = await server({ shedLagMs: 100 }, { lag })
    const ws = await wsAttempt(url)
    if (ws.kind !== 'open') throw new Error(`websocket ${ws.kind}`)
    lag.value = 2500
    const shed = await rawRequest(url, {})
    expect(shed.status).toBe(503)
    expect(shed.headers['retry-after']).toBe('3')
    expect(JSON.parse(shed.text).error).toEqual({
      code: -32005,
      message: 'server overloaded: retry later',
      data: { retryAfter: 3 },
    })
    expect((await rawRequest(url, { method: 'GET', path: '/health' })).status).toBe(200)
    const answer = new Promise<string>((resolve) => ws.ws.on('message', (d) => resolve(d.toString())))
    ws.ws.send('{"jsonrpc":"2.0","id":5,"method":"eth_chainId"}')
    expect(JSON.parse(await answer).error.code).toBe(-32005)
    ws.ws.close()

    lag.value = 99
    expect((await rawRequest(url, {})).status).toBe(200)
    expect(await metric(url, 'overloaded')).toBeGreaterThanOrEqual(2)
  })
})

describe('the node wires the edge from its config', () => {
  const nodes: StartedNode[] = []
  afterAll(async () => {
    for (const n of nodes) await n.close()
  })

  it('http.vhosts and http.cors reach the server', async () => {
    const node = await startDevNode(
      {},
      { flags: { 'http.vhosts': 'rpc.example.com', 'http.cors': 'https://app.example.com' } },
    )
    nodes.push(node)
    expect((await rawRequest(node.url, { headers: { host: 'localhost' } })).status).toBe(403)
    const ok = await rawRequest(node.url, { headers: { host: 'rpc.example.com', origin: 'https://app.example.com' } })
    expect(ok.status).toBe(200)
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com')
  })

  // A node of its own: with a 50 ms threshold, a machine busy with other work lags past it at
  // random, so nothing here asserts a request that must pass; only one that must be shed.
  it('http.shedLagMs reaches the server (real monitorEventLoopDelay)', async () => {
    const node = await startDevNode({}, { flags: { 'http.shedLagMs': 50 } })
    nodes.push(node)
    // Keep the loop busy in 150 ms slices while a request is in flight: it is shed.
    let n = 0
    const burn = () => {
      const t = Date.now()
      while (Date.now() - t < 150) {}
      if (++n < 10) setImmediate(burn)
    }
    setImmediate(burn)
    await new Promise((r) => setTimeout(r, 400))
    const shed = await rawRequest(node.url, { headers: { host: '127.0.0.1' } })
    expect(shed.status).toBe(503)
    expect(Number(shed.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  })
})
