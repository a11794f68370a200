// The arbitrage service composed with its RPC URL as ws:// (calls and subscriptions over the Cairn
// dev node's WebSocket, in this process): with an interval of an hour, only the subscription can
// make it follow the chain — /v1/status shows it live and the head following every swap; the
// metric says the socket is up; an API request over the limit is a 429 with Retry-After.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@cairn/service-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { type ArbService, startArbService } from '../../packages/arbitrage/src/service/service.ts'
import {
  addLiquidity,
  createPair,
  deployExecutor,
  deployFactory,
  deployToken,
  startCairn,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'

const E18 = 10n ** 18n
const DEV_KEY_0 = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const VIEWER = { 'x-api-key': 'viewer-key-0123456789abcdef01' }

describe('the arbitrage service over ws:// (Cairn dev node)', () => {
  let c: TestChain
  let svc: ArbService
  let W: Address
  let pair: Address
  const dir = mkdtempSync(join(tmpdir(), 'arb-ws-'))

  beforeAll(async () => {
    c = await startCairn()
    const f = await deployFactory(c)
    W = await deployToken(c, 10n ** 12n * E18)
    const A = await deployToken(c, 10n ** 12n * E18)
    for (const t of [W, A]) await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
    pair = await createPair(c, f, W, A)
    await addLiquidity(c, pair, W, 10_000n * E18, A, 10_000n * E18)
    const executor = await deployExecutor(c)
    writeFileSync(join(dir, 'key'), `${DEV_KEY_0}\n`, { mode: 0o600 })
    svc = await startArbService(
      {
        rpc: c.url.replace(/^http/, 'ws'),
        datadir: null,
        key: { keyFile: join(dir, 'key') },
        executor,
        base: W,
        factories: [{ address: f, fee: { num: 997n, den: 1000n } }],
        maxHops: 3,
        pollMs: 3_600_000, // never, in this test: only the subscription moves it
        http: null,
        auth: { jwtSecret: null, apiKeys: [{ name: 'watcher', role: 'viewer', key: VIEWER['x-api-key'] }] },
        rateLimit: { enabled: true, windowMs: 60_000, perIp: 100, perPrincipal: 1000, onStoreError: 'open' },
        queue: { kind: 'memory' },
        runner: { role: 'all', executorId: 'ws' },
      },
      { logger: createLogger({ level: 'error', format: 'json' }) },
    )
  }, 180_000)

  afterAll(async () => {
    await svc?.close()
    await c?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const status = async () => (await svc.app.inject({ url: '/v1/status', headers: VIEWER })).json()

  /** Resolves once /v1/status satisfies `ok`, re-checking on every new block the node makes. */
  const until = (ok: (s: Record<string, unknown>) => boolean) =>
    new Promise<void>((resolve, reject) => {
      let done = false
      const check = async () => {
        if (done) return
        if (ok(await status())) {
          done = true
          unwatch()
          clearTimeout(t)
          resolve()
        }
      }
      const unwatch = c.pub.watchBlockNumber({ onBlockNumber: () => void check(), pollingInterval: 100 })
      const t = setTimeout(() => {
        unwatch()
        reject(new Error('timed out'))
      }, 30_000)
      void check()
    })

  it('follows the chain by its subscription alone', async () => {
    for (let k = 0; k < 3; k++) {
      await swap(c, 2, pair, W, BigInt(k + 1) * E18)
      const n = await c.pub.getBlockNumber({ cacheTime: 0 })
      await until((s) => s.subscription === 'live' && s.head === n.toString())
    }
    const metrics = (await svc.app.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(/cairn_arb_ws_connected 1/)
    expect(metrics).toMatch(/cairn_arb_ws_disconnects_total 0/)
  }, 120_000)

  it('refuses an anonymous caller over its limit with 429 and Retry-After', async () => {
    let r = await svc.app.inject({ url: '/v1/status', remoteAddress: '10.1.1.1' })
    for (let i = 0; i < 100 && r.statusCode !== 429; i++)
      r = await svc.app.inject({ url: '/v1/status', remoteAddress: '10.1.1.1' })
    expect(r.statusCode).toBe(429)
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    expect((await svc.app.inject({ url: '/metrics' })).body).toMatch(
      /cairn_arb_api_rate_limited_total\{caller="ip"\} 1/,
    )
  })
})
