// The arbitrage service end to end on a Cairn dev chain with Uniswap V2 from its published build:
// started as `cairn arb start` composes it (PGlite, the in-process queue, the trading key on a
// remote signer over mutual TLS — `cairn signer serve --tx-keystore` with `--tx-allow-to
// EXECUTOR:execute` — so the service never holds it), it syncs the pools, an operator raises the minimum profit and engages the kill switch
// over the API; a mispricing another account makes is found but not traded while killed; released,
// the service trades it, and the trade, its realised profit and the audit trail are in the API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryProtectionStore, SignerServer, SignProtection } from '@cairn/consensus/privval'
import { createLogger, createTracing } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { type Abi, toFunctionSelector } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { arbExecutorAbi } from '../../packages/arbitrage/src/execution/executor.ts'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { type ArbService, startArbService } from '../../packages/arbitrage/src/service/service.ts'
import { makePki } from '../../packages/consensus/test/privval/tls-fixture.ts'
import {
  addLiquidity,
  balanceOf,
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
// dev account 0 of the "test … junk" mnemonic the dev node serves
const DEV_KEY_0 = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const OPERATOR = { 'x-api-key': 'operator-key-0123456789abcdef' }
const ADMIN = { 'x-api-key': 'admin-key-0123456789abcdef0123' }

describe('the arbitrage service on a Cairn dev chain', () => {
  let c: TestChain
  let svc: ArbService
  let signer: SignerServer
  let W: Address
  let A: Address
  let executor: Address
  const pool: Record<string, Address> = {}
  const dir = mkdtempSync(join(tmpdir(), 'arb-svc-'))
  const spans = new InMemorySpanExporter()

  beforeAll(async () => {
    c = await startCairn()
    const [f1, f2] = [await deployFactory(c), await deployFactory(c)]
    W = await deployToken(c, 10n ** 12n * E18)
    A = await deployToken(c, 10n ** 12n * E18)
    const B = await deployToken(c, 10n ** 12n * E18)
    for (const t of [W, A, B]) await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
    for (const [key, f, x, y] of [
      ['WA1', f1, W, A],
      ['WA2', f2, W, A],
      ['AB', f1, A, B],
      ['BW', f1, B, W],
    ] as const) {
      pool[key] = await createPair(c, f, x, y)
      await addLiquidity(c, pool[key]!, x, 10_000n * E18, y, 10_000n * E18)
    }
    executor = await deployExecutor(c)
    // the trading key on a remote signer that lets it call the executor's execute() only
    const pki = makePki(['arb'])
    const execute = (arbExecutorAbi as Abi).find((f) => f.type === 'function' && f.name === 'execute')
    signer = new SignerServer(
      {
        chainId: 1337n,
        host: '127.0.0.1',
        port: 0,
        tls: { ...pki.server, ca: [pki.ca], clients: [pki.clients.arb!.cert] },
        txPolicy: {
          allowTo: [{ to: executor.toLowerCase(), selectors: [toFunctionSelector(execute as never)] }],
          allowCreate: false,
          maxValue: 0n,
        },
      },
      {
        keys: [],
        txKeys: [Uint8Array.from(Buffer.from(DEV_KEY_0, 'hex'))],
        protection: new SignProtection({ store: new MemoryProtectionStore() }),
        logger: silentLogger,
      },
    )
    const { port } = await signer.listen()
    writeFileSync(join(dir, 'ca.pem'), pki.ca)
    writeFileSync(join(dir, 'arb.pem'), pki.clients.arb!.cert)
    writeFileSync(join(dir, 'arb-key.pem'), pki.clients.arb!.key, { mode: 0o600 })
    svc = await startArbService(
      {
        rpc: c.url,
        datadir: null,
        key: {
          remote: {
            url: `tls://127.0.0.1:${port}`,
            caFile: join(dir, 'ca.pem'),
            certFile: join(dir, 'arb.pem'),
            keyFile: join(dir, 'arb-key.pem'),
          },
        },
        executor,
        base: W,
        factories: [f1, f2].map((address) => ({ address, fee: { num: 997n, den: 1000n } })),
        maxHops: 3,
        searchThreads: 1, // the search pool starts and stops with the service
        pollMs: 3_600_000, // the test ticks by hand
        http: null,
        auth: {
          jwtSecret: null,
          apiKeys: [
            { name: 'ops', role: 'operator', key: OPERATOR['x-api-key'] },
            { name: 'root', role: 'admin', key: ADMIN['x-api-key'] },
          ],
        },
        queue: { kind: 'memory' },
        runner: { role: 'all', executorId: 'e2e' },
      },
      {
        logger: createLogger({ level: 'error', format: 'json' }),
        tracing: await createTracing(
          { enabled: true, otlpEndpoint: '', sampleRatio: 1, serviceName: 'arb-e2e', version: 't', exporter: spans },
          { logger: createLogger({ level: 'error', format: 'json' }) },
        ),
      },
    )
  }, 180_000)

  afterAll(async () => {
    await svc?.close()
    await signer?.close()
    await c?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('finds, holds while killed, then trades a mispricing, and shows it in the API', async () => {
    expect(svc.account.toLowerCase()).toBe(c.accounts[0]!.address.toLowerCase())
    const inject = svc.app.inject.bind(svc.app)
    expect((await inject({ url: '/v1/pools', headers: OPERATOR })).json().pools).toHaveLength(4)
    const min = await inject({
      method: 'PUT',
      url: '/v1/config/minProfit',
      headers: OPERATOR,
      payload: { value: (10n ** 15n).toString() },
    })
    expect(min.statusCode).toBe(200)
    await inject({
      method: 'POST',
      url: '/v1/kill-switch',
      headers: OPERATOR,
      payload: { engaged: true, reason: 'e2e' },
    })

    await swap(c, 2, pool.BW!, W, 1500n * E18) // cheap W in BW: W→A→B→W and W→B… cycles open up
    await svc.tick()
    await svc.idle()
    const held = (await inject({ url: '/v1/opportunities?decision=skipped', headers: OPERATOR })).json().opportunities
    expect(held.length).toBeGreaterThan(0)
    expect(held[0].detail).toBe('killed')
    expect((await inject({ url: '/v1/trades', headers: OPERATOR })).json().trades).toEqual([])

    await inject({ method: 'POST', url: '/v1/kill-switch', headers: OPERATOR, payload: { engaged: false } })
    const before = await balanceOf(c, W, executor)
    await svc.tick() // no new block: the carried pools are searched again
    await svc.idle()
    const trades = (await inject({ url: '/v1/trades', headers: OPERATOR })).json().trades
    expect(trades).toHaveLength(1)
    expect(trades[0].status).toBe('success')
    expect(BigInt(trades[0].realized)).toBeGreaterThan(10n ** 15n)
    expect(await balanceOf(c, W, executor)).toBe(before + BigInt(trades[0].profit))
    const pnl = (await inject({ url: '/v1/pnl', headers: OPERATOR })).json()
    expect(pnl.totals[W.toLowerCase()] ?? pnl.totals[W]).toMatchObject({ trades: 1, realized: trades[0].realized })
    const audit = (await inject({ url: '/v1/audit', headers: ADMIN })).json().entries
    expect(audit.map((e: { actor: string; action: string }) => `${e.actor}:${e.action}`)).toEqual([
      'ops:config.set',
      'ops:config.set',
      'ops:kill-switch.reason',
      'ops:config.set',
    ])
    const status = (await inject({ url: '/v1/status', headers: OPERATOR })).json()
    expect(status).toMatchObject({ breakerOpen: false, quarantine: { cycles: 0, tokens: [] } })
    const metrics = (await inject({ url: '/metrics' })).body
    expect(metrics).toMatch(/cairn_arb_trades_total\{status="success"\} 1/)
    expect(metrics).toMatch(/cairn_arb_block_to_tx_seconds_count 1/)

    // OpenTelemetry (in-memory exporter): each tick holds its search; the simulation and the
    // execution are spans with the trade's shape and outcome
    const done = spans.getFinishedSpans()
    const named = (n: string) => done.filter((sp) => sp.name === n)
    const ticks = named('arb.tick')
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    const search = named('arb.search')
    expect(search.length).toBeGreaterThan(0)
    for (const sp of search) expect(ticks.map((t) => t.spanContext().spanId)).toContain(sp.parentSpanContext?.spanId)
    const exec = named('arb.execute')
    expect(exec).toHaveLength(1)
    expect(exec[0]!.attributes['arb.status']).toBe('success')
    expect(exec[0]!.attributes['arb.tx']).toBe(trades[0].txHash)
    const sim = named('arb.simulate')
    expect(sim.some((sp) => sp.attributes['arb.ok'] === true)).toBe(true)
    // one trace per tick: the trade's simulation and execution are children of the tick that found it
    const tradeTick = ticks.find((t) => t.spanContext().spanId === exec[0]!.parentSpanContext?.spanId)
    expect(tradeTick).toBeDefined()
    expect(sim.some((sp) => sp.parentSpanContext?.spanId === tradeTick!.spanContext().spanId)).toBe(true)
    expect(new Set([...sim, ...exec].map((sp) => sp.spanContext().traceId))).toEqual(
      new Set([tradeTick!.spanContext().traceId]),
    )
  }, 180_000)

  it('does not trade while another executor holds its signing lease, and trades again once it is back', async () => {
    const inject = svc.app.inject.bind(svc.app)
    const tradesNow = async () => (await inject({ url: '/v1/trades', headers: OPERATOR })).json().trades.length
    const leaseMetric = async () => /^cairn_arb_signer_lease 1$/m.test(await svc.registry.metrics())
    const before = await tradesNow()
    // Another executor took the account over (this one stalled past the stale time): its heartbeat is fresh.
    await svc.sql.query("UPDATE arb_signers SET owner = 'executor-b', heartbeat = now() WHERE account = $1", [
      svc.account.toLowerCase(),
    ])
    await swap(c, 2, pool.BW!, W, 1500n * E18)
    await svc.tick()
    await svc.idle()
    expect(await tradesNow()).toBe(before)
    expect(await leaseMetric()).toBe(false)
    // The other one is gone (its heartbeat stale: older than 20 poll intervals, 20 h here): this
    // one takes the lease back and trades.
    await svc.sql.query("UPDATE arb_signers SET heartbeat = now() - interval '21 hours' WHERE account = $1", [
      svc.account.toLowerCase(),
    ])
    await svc.tick()
    await svc.idle()
    expect(await leaseMetric()).toBe(true)
    expect(await tradesNow()).toBe(before + 1)
  }, 120_000)

  it('puts rotated API keys in force without a restart: the old key is refused, the new one accepted', async () => {
    const inject = svc.app.inject.bind(svc.app)
    expect((await inject({ url: '/v1/pools', headers: OPERATOR })).statusCode).toBe(200)
    const next = 'operator-key-rotated-0123456789ab'
    svc.rotateAuth({
      apiKeys: [
        { name: 'ops', role: 'operator', key: next },
        { name: 'root', role: 'admin', key: ADMIN['x-api-key'] },
      ],
    })
    expect((await inject({ url: '/v1/pools', headers: OPERATOR })).statusCode).toBe(401)
    expect((await inject({ url: '/v1/pools', headers: { 'x-api-key': next } })).statusCode).toBe(200)
  })
})
