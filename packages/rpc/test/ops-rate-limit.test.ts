// Rate limits over the real HTTP transport: per IP (distinct loopback source addresses) and per key.
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashApiKey, MemoryRateLimitStore, methodWeight } from '../src/index.ts'
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

describe('MemoryRateLimitStore', () => {
  it('never lets more than the limit through in any window, and refuses with a positive retry', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 300 }), w: fc.integer({ min: 1, max: 8 }) }), {
          maxLength: 200,
        }),
        (hits) => {
          const store = new MemoryRateLimitStore()
          const limit = 20
          const windowMs = 1000
          let t = 0
          const allowed: { at: number; w: number }[] = []
          for (const h of hits) {
            t += h.dt
            const d = store.hit('k', h.w, limit, windowMs, t)
            if (d.allowed) allowed.push({ at: t, w: h.w })
            else expect(d.retryAfterMs).toBeGreaterThan(0)
            const used = allowed.filter((a) => a.at > t - windowMs).reduce((s, a) => s + a.w, 0)
            expect(used).toBeLessThanOrEqual(limit)
          }
        },
      ),
    )
  })

  it('decides exactly as a naive sliding-window log, over long runs (front compaction) and several buckets', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 3 }),
            w: fc.integer({ min: 1, max: 5 }),
            b: fc.constantFrom('a', 'b'),
          }),
          { minLength: 3000, maxLength: 4000 },
        ),
        (hits) => {
          const store = new MemoryRateLimitStore({ sweepEvery: 97 })
          // Near the bucket's usual load, so both admissions and refusals happen.
          const limit = 400
          const windowMs = 500
          let t = 0
          const log: Record<string, { at: number; w: number }[]> = { a: [], b: [] }
          for (const h of hits) {
            t += h.dt
            const kept = (log[h.b] ?? []).filter((e) => e.at > t - windowMs)
            const used = kept.reduce((s, e) => s + e.w, 0)
            const d = store.hit(h.b, h.w, limit, windowMs, t)
            expect(d.allowed).toBe(used + h.w <= limit)
            if (d.allowed) {
              kept.push({ at: t, w: h.w })
              expect(d.remaining).toBe(limit - used - h.w)
            }
            log[h.b] = kept
          }
        },
      ),
      { numRuns: 30, endOnFailure: true }, // no shrinking: runs are thousands of hits long
    )
  })

  it('weights: debug_ > eth_getLogs > eth_call > reads', () => {
    expect(methodWeight('debug_traceCall')).toBeGreaterThan(methodWeight('eth_getLogs'))
    expect(methodWeight('eth_getLogs')).toBeGreaterThan(methodWeight('eth_call'))
    expect(methodWeight('eth_call')).toBeGreaterThan(methodWeight('eth_blockNumber'))
  })
})
