// The Redis rate-limit store against the real Redis at 127.0.0.1:6379 (skipped, saying so, when
// it does not answer): two nodes share one budget; an unreachable Redis fails open or closed per
// config, logged and counted, never crashing. (The store's own window properties are service-kit's
// tests: packages/service-kit/test/rate-limit-redis.test.ts.)
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { createLogger, hashApiKey } from '@cairn/service-kit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { rawRequest, WebSocket } from '../../packages/rpc/test/edge-server.ts'
import { type StartedNode, startDevNode } from './live-node.ts'

const REDIS_URL = 'redis://127.0.0.1:6379'

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

const up = await redisAnswers()
if (!up) console.warn(`ops-redis: Redis at ${REDIS_URL} does not answer — skipping the shared-store tests`)

const nodes: StartedNode[] = []
afterAll(async () => {
  for (const n of nodes) await n.close()
})

describe.skipIf(!up)('Redis rate-limit store (real Redis at 127.0.0.1:6379)', () => {
  it('a subscribe that completes after its socket closed registers nothing (no listener leaks)', async () => {
    const node = await startDevNode(
      {},
      { flags: { 'rateLimit.enabled': true, 'rateLimit.store': 'redis', 'rateLimit.redisUrl': REDIS_URL } },
    )
    nodes.push(node)
    const before = node.chain.events.listenerCount('newHead')
    const subscribes = async () => {
      const text = await (await fetch(`${node.url}/metrics`)).text()
      const lines = text.matchAll(/^cairn_rpc_requests_total\{method="eth_subscribe",code="[^"]*"\} (\d+)/gm)
      return [...lines].reduce((sum, m) => sum + Number(m[1]), 0)
    }
    // Each socket sends a subscribe and closes at once: the gate's Redis round trip makes the
    // subscribe finish after the close.
    for (let i = 0; i < 30; i++) {
      const ws = new WebSocket(node.url.replace(/^http/, 'ws'))
      await new Promise<void>((resolve) => ws.on('open', () => resolve()))
      const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }))
      ws.terminate()
      await closed
    }
    // Every subscribe has been dispatched (counted by the dispatcher, answered or refused).
    for (let n = await subscribes(); n < 30; n = await subscribes()) await new Promise((r) => setTimeout(r, 20))
    expect(node.chain.events.listenerCount('newHead')).toBe(before)
  })

  it('two nodes on one Redis share one budget per key', async () => {
    const key = randomBytes(16).toString('hex')
    const name = `shared-${randomBytes(6).toString('hex')}`
    const flags = {
      'rateLimit.enabled': true,
      'rateLimit.store': 'redis',
      'rateLimit.redisUrl': REDIS_URL,
      'rateLimit.perKey': 10,
      'rateLimit.windowSeconds': 60,
      'auth.apiKeys': [{ name, keyHash: hashApiKey(key), role: 'user' }],
    }
    const a = await startDevNode({}, { flags })
    nodes.push(a)
    const b = await startDevNode({}, { flags })
    nodes.push(b)
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      statuses.push((await rawRequest(i % 2 ? a.url : b.url, { headers: { 'x-api-key': key } })).status)
    }
    expect(statuses).toEqual(Array(10).fill(200))
    const overA = await rawRequest(a.url, { headers: { 'x-api-key': key } })
    const overB = await rawRequest(b.url, { headers: { 'x-api-key': key } })
    expect([overA.status, overB.status]).toEqual([429, 429])
    expect(Number(overB.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(JSON.parse(overB.text).error.code).toBe(-32005)
    // Anonymous callers (per IP) are a separate budget.
    expect((await rawRequest(a.url, { localAddress: `127.0.${1 + (Date.now() % 200)}.9` })).status).toBe(200)
  })
})

describe('an unreachable Redis store', () => {
  it('fails open by default: requests pass, the failure is logged and counted', async () => {
    const lines: string[] = []
    const logger = createLogger({
      level: 'warn',
      format: 'json',
      destination: new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk))
          done()
        },
      }),
    })
    const node = await startDevNode(
      {},
      {
        flags: { 'rateLimit.enabled': true, 'rateLimit.store': 'redis', 'rateLimit.redisUrl': 'redis://127.0.0.1:1' },
        logger,
      },
    )
    nodes.push(node)
    for (let i = 0; i < 7; i++) expect((await rawRequest(node.url, {})).status).toBe(200)
    await new Promise((r) => setTimeout(r, 50))
    const log = lines.join('')
    expect(log).toContain('redis rate-limit store unreachable at start')
    expect(log).toContain('rate-limit store failing: requests are let through')
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    expect(metrics).toMatch(/^cairn_outbound_calls_total\{target="redis-rate-limit",outcome="error"\} [1-9]/m)
    expect(metrics).toMatch(/^cairn_outbound_calls_total\{target="redis-rate-limit",outcome="circuit_open"\} [1-9]/m)
  })

  it('fails closed when configured: 503 + Retry-After + -32005, counted as limit_store_down', async () => {
    const node = await startDevNode(
      {},
      {
        flags: {
          'rateLimit.enabled': true,
          'rateLimit.store': 'redis',
          'rateLimit.redisUrl': 'redis://127.0.0.1:1',
          'rateLimit.onStoreError': 'closed',
        },
      },
    )
    nodes.push(node)
    const r = await rawRequest(node.url, {})
    expect(r.status).toBe(503)
    expect(r.headers['retry-after']).toBe('1')
    expect(JSON.parse(r.text).error).toMatchObject({
      code: -32005,
      message: expect.stringContaining('rate limits unavailable'),
    })
    expect((await rawRequest(node.url, { method: 'GET', path: '/health' })).status).toBe(200)
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    expect(metrics).toMatch(/^cairn_rpc_refused_total\{reason="limit_store_down"\} [1-9]/m)
  })
})
