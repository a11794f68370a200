// Rate limits over the real HTTP transport: per IP (distinct loopback source addresses) and per key.
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { hashApiKey } from '@cairn/service-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { methodWeight } from '../../packages/rpc/src/index.ts'
import { type StartedNode, startDevNode } from './live-node.ts'

const KEY = randomBytes(16).toString('hex')

interface Answer {
  status: number
  retryAfter: string | undefined
  body: { result?: unknown; error?: { code: number; message: string } }
}

/** POSTs one call from `localAddress` (any 127.x address reaches a server on 127.0.0.1 on Linux). */
function rpcFrom(url: string, localAddress: string, method: string, headers: Record<string, string> = {}) {
  const u = new URL(url)
  const payload = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] })
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'POST', path: '/', localAddress, agent: false },
      (res) => {
        let text = ''
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }),
        )
      },
    )
    req.on('error', reject)
    req.setHeader('content-type', 'application/json')
    for (const [k, v] of Object.entries(headers)) req.setHeader(k, v)
    req.end(payload)
  })
}

describe('rate limits', () => {
  let node: StartedNode

  beforeAll(async () => {
    node = await startDevNode(
      {},
      {
        flags: {
          'rateLimit.enabled': true,
          'rateLimit.perIp': 10,
          'rateLimit.perKey': 50,
          'rateLimit.windowSeconds': 600,
          'auth.apiKeys': [{ name: 'k', keyHash: hashApiKey(KEY), role: 'user' }],
        },
      },
    )
  })
  afterAll(async () => {
    await node?.close()
  })

  it('a burst over the limit from one IP gets 429 + Retry-After while another IP and a key are served', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await rpcFrom(node.url, '127.0.0.2', 'eth_blockNumber')).status).toBe(200)
    }
    const over = await rpcFrom(node.url, '127.0.0.2', 'eth_blockNumber')
    expect(over.status).toBe(429)
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(600)
    expect(over.body.error).toEqual({
      code: -32005,
      message: 'limit exceeded',
      data: { retryAfter: expect.any(Number) },
    })

    expect((await rpcFrom(node.url, '127.0.0.3', 'eth_blockNumber')).status).toBe(200)
    const keyed = await rpcFrom(node.url, '127.0.0.2', 'eth_blockNumber', { 'x-api-key': KEY })
    expect(keyed.status).toBe(200)
    expect(keyed.body.result).toMatch(/^0x/)

    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    expect(metrics).toMatch(/^cairn_rpc_refused_total\{reason="rate_limited"\} [1-9]/m)
  })

  it('heavy methods weigh more: two eth_call use the whole budget of an IP', async () => {
    expect((await rpcFrom(node.url, '127.0.0.4', 'eth_call')).status).toBe(200)
    expect((await rpcFrom(node.url, '127.0.0.4', 'eth_call')).status).toBe(200)
    expect((await rpcFrom(node.url, '127.0.0.4', 'eth_chainId')).status).toBe(429)
  })
})

describe('method weights', () => {
  it('weights: debug_ > eth_getLogs > eth_call > reads', () => {
    expect(methodWeight('debug_traceCall')).toBeGreaterThan(methodWeight('eth_getLogs'))
    expect(methodWeight('eth_getLogs')).toBeGreaterThan(methodWeight('eth_call'))
    expect(methodWeight('eth_call')).toBeGreaterThan(methodWeight('eth_blockNumber'))
  })
})
