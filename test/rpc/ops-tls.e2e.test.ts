// TLS on the RPC port: a self-signed certificate made by openssl in the test, HTTPS and WSS on
// the same port, checked with real clients that trust only that certificate.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from '../../packages/rpc/test/edge-server.ts'
import { type StartedNode, startDevNode } from './live-node.ts'

let dir: string
let cert: string
let key: string
let node: StartedNode

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-tls-'))
  cert = join(dir, 'cert.pem')
  key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  node = await startDevNode({}, { flags: { 'http.tlsCert': cert, 'http.tlsKey': key } })
})
afterAll(async () => {
  await node?.close()
  rmSync(dir, { recursive: true, force: true })
})

function httpsCall(
  url: string,
  ca: Buffer | undefined,
): Promise<{ status: number; headers: Record<string, unknown>; body: { result?: string } }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/',
        ...(ca ? { ca } : {}),
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = ''
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }))
  })
}

describe('TLS (http.tlsCert / http.tlsKey)', () => {
  it('serves HTTPS to a client trusting the certificate, with HSTS', async () => {
    expect(node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const r = await httpsCall(node.url, readFileSync(cert))
    expect(r.status).toBe(200)
    expect(r.body.result).toBe('0x539')
    expect(String(r.headers['strict-transport-security'])).toContain('max-age=')
  })

  it('a client that does not trust it refuses; plain HTTP on the port gets nothing', async () => {
    await expect(httpsCall(node.url, undefined)).rejects.toThrow(/self[- ]signed/i)
    const plain = await fetch(node.url.replace('https:', 'http:'), { method: 'POST', body: '{}' }).then(
      (r) => r.status,
      () => 'refused',
    )
    expect(plain).not.toBe(200)
  })

  it('serves WSS on the same port', async () => {
    const ws = new WebSocket(node.url.replace(/^https/, 'wss'), { ca: readFileSync(cert) })
    const answer = await new Promise<string>((resolve, reject) => {
      ws.on('error', reject)
      ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'eth_chainId', params: [] })))
      ws.on('message', (d) => resolve(d.toString()))
    })
    ws.close()
    expect(JSON.parse(answer)).toMatchObject({ id: 9, result: '0x539' })
  })

  it('the per-IP connection cap counts TLS connections too', async () => {
    const capped = await startDevNode(
      {},
      { flags: { 'http.tlsCert': cert, 'http.tlsKey': key, 'http.maxConnectionsPerIp': 1 } },
    )
    const u = new URL(capped.url)
    const held = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: u.hostname, port: Number(u.port), ca: readFileSync(cert) }, () => resolve(s))
      s.on('error', reject)
    })
    try {
      // Counted at arrival, before the TLS handshake: the second is closed before it is paid for.
      await expect(httpsCall(capped.url, readFileSync(cert))).rejects.toThrow(/ECONNRESET|socket hang up|disconnected/)
    } finally {
      held.destroy()
      await capped.close()
    }
  })

  it('a missing key file stops the start, naming the key and the path', async () => {
    await expect(
      startDevNode({}, { flags: { 'http.tlsCert': cert, 'http.tlsKey': join(dir, 'missing.pem') } }),
    ).rejects.toThrow(/http\.tlsKey .*missing\.pem/)
    writeFileSync(join(dir, 'junk.pem'), 'not a pem')
    await expect(
      startDevNode({}, { flags: { 'http.tlsCert': join(dir, 'junk.pem'), 'http.tlsKey': key } }),
    ).rejects.toThrow(/http\.tlsCert .* is not a PEM file/)
  })
})
