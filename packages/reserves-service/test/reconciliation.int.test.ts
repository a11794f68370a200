// Reconciliation end to end in one process, on PGlite and on PostgreSQL (a fresh schema per run):
// asset sources declared through the API, a run after each build reading a real JSON-RPC endpoint
// on loopback at one pinned block, the ratio per currency, the outcome in the audit log, the
// outbox (webhooks and NATS) and the public snapshot answer; a shortfall alerts, an RPC failure
// fails the run with no ratio, and two workers never both run one reconciliation.
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { createReconciliationMetrics } from '../src/features/reconciliation/metrics.ts'
import { ReconciliationRuns } from '../src/features/reconciliation/runs.ts'
import { AssetSources } from '../src/features/reconciliation/sources.ts'
import { DEFAULT_RECONCILIATION, ReconciliationWorker } from '../src/features/reconciliation/worker.ts'
import { DEFAULT_WEBHOOKS } from '../src/features/webhooks/worker.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { SnapshotStore } from '../src/kernel/store.ts'
import { startTestChain, type TestChain } from './reconciliation-chain.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('test-secret-test-secret-test-secret')
const key = parseKeyFile('ef'.repeat(32))
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const auditor = { authorization: `Bearer ${signToken(secret, { sub: 'kpmg', role: 'auditor', ttlSeconds: 600 })}` }
const user = { authorization: `Bearer ${signToken(secret, { sub: 'alice', role: 'user', ttlSeconds: 600 })}` }

const VAULT = '0x1111111111111111111111111111111111111111'
const HOT = '0x2222222222222222222222222222222222222222'
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
const E18 = 10n ** 18n

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false && v !== null) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the PostgreSQL reconciliation tests: 127.0.0.1:5432 is unreachable (${pgDown})`)

interface Run {
  id: string
  state: string
  trigger: string
  error: string | null
  result: {
    status: string
    currencies: {
      symbol: string
      decimals: number
      liabilities: string
      assets: string
      ratio: string | null
      status: string
    }[]
    chains: { chainId: number; rpc: string; blockNumber: string }[]
    sources: { id: string; blockNumber?: string; amount: string }[]
  } | null
}

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`reconciliation on ${driver}`, { timeout: 60_000 }, () => {
    let db: OpenedSql
    let svc: ReservesService
    let chain: TestChain
    beforeAll(async () => {
      db = await openTestSql(driver)
      chain = await startTestChain()
      svc = createReservesService(
        {
          ...DEFAULT_SERVICE_OPTIONS,
          jwtSecret: secret,
          defaultMinDepth: 2,
          // deliveries are not what is tested here: the outbox rows are
          webhooks: { ...DEFAULT_WEBHOOKS, deliver: false },
          reconciliation: { ...DEFAULT_RECONCILIATION, pollMs: 50, rpcTimeoutMs: 3_000 },
        },
        { sql: db.sql, key, logger: silentLogger, owner: 'one' },
      )
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
      await chain?.close()
    })

    const call = async (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
      url: string,
      payload?: object,
      as = admin,
    ) => {
      const r = await svc.app.inject({ method, url, headers: as, ...(payload === undefined ? {} : { payload }) })
      return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} }
    }
    const declare = async (source: Record<string, unknown>) => {
      const r = await call('POST', '/v1/reconciliation/sources', source)
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      return r.body as { id: string; rpc: string | null }
    }
    const outbox = async (type: string) =>
      (await db.sql.query('SELECT body FROM reserves_outbox WHERE type = $1 ORDER BY seq', [type])).map(
        (r) => JSON.parse(r.body as string) as { data: Record<string, unknown> },
      )
    const auditOf = async (action: string) =>
      (
        (await call('GET', '/v1/audit?limit=1000')).body.entries as {
          action: string
          details: Record<string, unknown>
        }[]
      ).filter((e) => e.action === action)
    const finished = (id: string) =>
      until(`run ${id} finished`, async () => {
        const r = (await call('GET', `/v1/reconciliations/${id}`)).body as unknown as Run
        return ['ok', 'shortfall', 'failed'].includes(r.state) ? r : undefined
      })
    const metric = async (line: string) => {
      const text = await (await svc.app.inject({ method: 'GET', url: '/metrics' })).body
      return text.split('\n').find((l) => l.startsWith(line))
    }

    let ethSource = ''
    it('declares sources (admin only, audited, the RPC URL shown as its origin) and runs after the build', async () => {
      // liabilities: ETH 3 (18 decimals), USDC 1500 (6 decimals)
      chain.balances.set(VAULT, 2n * E18)
      chain.balances.set(HOT, E18 / 2n)
      chain.tokens.set(USDC, new Map([[VAULT, 1_000_000_000n]]))
      const src = { kind: 'onchain', currency: 'ETH', chainId: 1337, rpcUrl: chain.url, address: VAULT, label: 'cold' }
      expect((await call('POST', '/v1/reconciliation/sources', src, auditor)).status).toBe(403)
      expect((await call('POST', '/v1/reconciliation/sources', { ...src, token: USDC })).status).toBe(400) // no decimals
      const bad = await call('POST', '/v1/reconciliation/sources', { ...src, address: '0x12' })
      expect(bad.status).toBe(400)
      expect(bad.body.message).toContain('address')
      expect(bad.body.hint).toContain('reconciliation.md')
      const eth = await declare(src)
      ethSource = eth.id
      expect(eth.rpc).toBe(new URL(chain.url).origin)
      expect(JSON.stringify(eth)).not.toContain('secret-api-key')
      await declare({ kind: 'onchain', currency: 'ETH', chainId: 1337, rpcUrl: chain.url, address: HOT })
      await declare({
        kind: 'onchain',
        currency: 'USDC',
        chainId: 1337,
        rpcUrl: chain.url,
        address: VAULT,
        token: USDC,
        decimals: 6,
      })
      await declare({
        kind: 'offchain',
        currency: 'ETH',
        amount: '0.5',
        attestedBy: 'Bank X',
        asOf: '2026-11-27T00:00:00Z',
      })
      await declare({
        kind: 'offchain',
        currency: 'USDC',
        amount: '600.25',
        attestedBy: 'Bank Y',
        asOf: '2026-11-27T00:00:00Z',
      })
      const listed = (await call('GET', '/v1/reconciliation/sources', undefined, auditor)).body.sources as unknown[]
      expect(listed).toHaveLength(5)
      expect(JSON.stringify(await auditOf('asset_source.created'))).not.toContain('secret-api-key')
      expect(await auditOf('asset_source.created')).toHaveLength(5)

      const up = await svc.app.inject({
        method: 'POST',
        url: '/v1/snapshots',
        headers: admin,
        payload: {
          id: 'snap-1',
          currencies: [
            { symbol: 'ETH', decimals: 18 },
            { symbol: 'USDC', decimals: 6 },
          ],
          entries: [
            { userId: 'alice', balances: { ETH: (2n * E18).toString(), USDC: '1000000000' } },
            { userId: 'bob', balances: { ETH: E18.toString(), USDC: '500000000' } },
          ],
        },
      })
      expect(up.statusCode, up.body).toBe(202)
      await svc.idle()
      const latest = await until('a run after the build', async () => {
        const r = await call('GET', '/v1/reconciliations/latest?snapshotId=snap-1')
        return r.status === 200 ? (r.body as unknown as Run) : undefined
      })
      expect(latest.trigger).toBe('build')
      expect(latest.state).toBe('ok')
      const byCur = Object.fromEntries(latest.result!.currencies.map((c) => [c.symbol, c]))
      expect(byCur.ETH).toMatchObject({
        decimals: 18,
        liabilities: (3n * E18).toString(),
        assets: (3n * E18).toString(),
        ratio: '1.000000000000000000',
        status: 'ok',
      })
      // 1000 + 600.25 against 1500
      expect(byCur.USDC).toMatchObject({
        decimals: 6,
        liabilities: '1500000000',
        assets: '1600250000',
        ratio: '1.066833333333333333',
        status: 'ok',
      })
      // one block number read per run, every balance read at it
      const block = latest.result!.chains[0]!.blockNumber
      expect(latest.result!.chains).toEqual([{ chainId: 1337, rpc: new URL(chain.url).origin, blockNumber: block }])
      const reads = chain.calls.filter((c) => c.method === 'eth_getBalance' || c.method === 'eth_call')
      expect(reads).toHaveLength(3)
      for (const c of reads) expect(c.params[1]).toBe(`0x${BigInt(block).toString(16)}`)
      expect(chain.calls.filter((c) => c.method === 'eth_blockNumber')).toHaveLength(1)

      const done = await auditOf('reconciliation.completed')
      expect(done).toHaveLength(1)
      expect(done[0]!.details).toMatchObject({ reconciliationId: latest.id, snapshotId: 'snap-1', status: 'ok' })
      const ev = await outbox('reconciliation.completed')
      expect(ev).toHaveLength(1)
      expect(ev[0]!.data).toMatchObject({ reconciliationId: latest.id, status: 'ok' })
      expect(await outbox('reconciliation.shortfall')).toHaveLength(0)
      expect(await metric('cairn_reserves_reserve_ratio{currency="USDC"}')).toBe(
        'cairn_reserves_reserve_ratio{currency="USDC"} 1.0668333333333333',
      )
      expect(await metric('cairn_reserves_reconciliations_total{outcome="ok"}')).toMatch(/ 1$/)
      expect(await metric('cairn_reserves_reconciliations_total{outcome="failed"}')).toMatch(/ 0$/)
    })

    it('publishes the latest completed reconciliation with the anchored snapshot (public)', async () => {
      const put = await call('PUT', '/v1/snapshots/snap-1/anchor', {
        chainId: 1337,
        txHash: `0x${'ab'.repeat(32)}`,
        blockNumber: 7,
      })
      expect(put.status, JSON.stringify(put.body)).toBe(200)
      const pub = await svc.app.inject({ method: 'GET', url: '/v1/snapshots/snap-1/anchor' })
      expect(pub.statusCode).toBe(200)
      const body = JSON.parse(pub.body) as {
        reconciliation: { status: string; currencies: { symbol: string; ratio: string }[] }
      }
      expect(body.reconciliation.status).toBe('ok')
      expect(body.reconciliation.currencies.map((c) => [c.symbol, c.ratio])).toEqual([
        ['ETH', '1.000000000000000000'],
        ['USDC', '1.066833333333333333'],
      ])
      expect(pub.body).not.toContain('secret-api-key')
      expect(pub.body).not.toContain('Bank X') // per-source detail is for staff
      // users and auditors: users may not read runs; auditors may
      expect((await call('GET', '/v1/reconciliations', undefined, user)).status).toBe(403)
      expect((await call('GET', '/v1/reconciliations', undefined, auditor)).status).toBe(200)
    })

    it('a shortfall is recorded, alerted in the outbox (reconciliation.shortfall) and audited', async () => {
      chain.balances.set(VAULT, 2n * E18 - 1n) // one wei short
      const q = await call('POST', '/v1/reconciliations', { snapshotId: 'snap-1' })
      expect(q.status, JSON.stringify(q.body)).toBe(202)
      const run = await finished(q.body.id as string)
      expect(run.state).toBe('shortfall')
      expect(run.trigger).toBe('manual')
      const eth = run.result!.currencies.find((c) => c.symbol === 'ETH')!
      expect(eth).toMatchObject({
        status: 'shortfall',
        ratio: '0.999999999999999999',
        assets: (3n * E18 - 1n).toString(),
      })
      expect(run.result!.currencies.find((c) => c.symbol === 'USDC')!.status).toBe('ok')
      const alert = await outbox('reconciliation.shortfall')
      expect(alert).toHaveLength(1)
      expect(alert[0]!.data).toMatchObject({ reconciliationId: run.id, snapshotId: 'snap-1' })
      expect((alert[0]!.data.currencies as { symbol: string }[]).map((c) => c.symbol)).toEqual(['ETH'])
      const audited = await auditOf('reconciliation.completed')
      expect(audited.at(-1)!.details).toMatchObject({ reconciliationId: run.id, status: 'shortfall' })
      expect((await call('GET', '/v1/audit/verify')).body.ok).toBe(true)
      expect(await metric('cairn_reserves_reserve_ratio{currency="ETH"}')).toBe(
        'cairn_reserves_reserve_ratio{currency="ETH"} 0.9999999999999999',
      )
      expect(await metric('cairn_reserves_reconciliations_total{outcome="shortfall"}')).toMatch(/ 1$/)
      // the public answer follows the newest completed run
      const pub = JSON.parse((await svc.app.inject({ method: 'GET', url: '/v1/snapshots/snap-1/anchor' })).body)
      expect(pub.reconciliation.status).toBe('shortfall')
    })

    it('an RPC failure fails the run with the reason and no ratio; a disabled source is not read', async () => {
      chain.failing.add('eth_getBalance')
      const q = await call('POST', '/v1/reconciliations', {})
      const run = await finished(q.body.id as string)
      expect(run.state).toBe('failed')
      expect(run.result).toBeNull()
      expect(run.error).toContain('eth_getBalance')
      expect(run.error).toContain('header not found')
      expect(run.error).not.toContain('secret-api-key')
      const failed = await outbox('reconciliation.failed')
      expect(failed).toHaveLength(1)
      expect(failed[0]!.data).toMatchObject({ reconciliationId: run.id })
      expect((await auditOf('reconciliation.failed')).at(-1)!.details).toMatchObject({ reconciliationId: run.id })
      expect(await metric('cairn_reserves_reconciliation_rpc_errors_total{method="eth_getBalance"}')).toMatch(/ 1$/)
      expect(await metric('cairn_reserves_reconciliations_total{outcome="failed"}')).toMatch(/ 1$/)
      // the latest run is the failed one; the public answer keeps the last completed comparison
      expect(((await call('GET', '/v1/reconciliations/latest')).body as unknown as Run).id).toBe(run.id)
      const pub = JSON.parse((await svc.app.inject({ method: 'GET', url: '/v1/snapshots/snap-1/anchor' })).body)
      expect(pub.reconciliation.status).toBe('shortfall')

      // the endpoint down altogether
      chain.failing.clear()
      chain.failing.add('http')
      const down = await finished((await call('POST', '/v1/reconciliations', {})).body.id as string)
      expect(down.state).toBe('failed')
      expect(down.error).toMatch(/eth_chainId at http:\/\/127\.0\.0\.1:\d+: HTTP 500/)
      chain.failing.clear()

      // the short cold wallet disabled: ETH has 0.5 (hot) + 0.5 (off-chain) against 3
      const p = await call('PATCH', `/v1/reconciliation/sources/${ethSource}`, { enabled: false })
      expect(p.status, JSON.stringify(p.body)).toBe(200)
      const after = await finished((await call('POST', '/v1/reconciliations', {})).body.id as string)
      expect(after.result!.currencies.find((c) => c.symbol === 'ETH')).toMatchObject({
        assets: E18.toString(),
        ratio: '0.333333333333333333',
      })
      expect(after.result!.sources.some((s) => s.id === ethSource)).toBe(false)
      expect((await call('PATCH', `/v1/reconciliation/sources/${ethSource}`, { amount: '1' })).status).toBe(400)
      expect((await call('DELETE', '/v1/reconciliation/sources/src_nope')).status).toBe(404)
      expect((await call('GET', '/v1/reconciliations/rec_nope')).status).toBe(404)
    })

    it('two workers: one run of a slot, claimed by one only', async () => {
      await svc.reconciliation.worker?.stop() // the service's own worker out of the way
      const other: { sql: Sql; close(): Promise<void> } =
        driver === 'pg'
          ? await openPostgres(db.url!).then((s) => ({ sql: s, close: () => s.close() }))
          : { sql: db.sql, close: async () => {} }
      try {
        const worker = (sql: Sql, owner: string) =>
          new ReconciliationWorker(
            { ...DEFAULT_RECONCILIATION, owner, intervalMs: 3_600_000 },
            {
              sql,
              runs: new ReconciliationRuns(sql),
              sources: new AssetSources(sql, key),
              store: new SnapshotStore(sql, key),
              logger: silentLogger,
              metrics: createReconciliationMetrics(new Registry()),
              clockMs: Date.now,
            },
          )
        const a = worker(db.sql, 'a')
        const b = worker(other.sql, 'b')
        // the interval's run: both ask at once, one is queued
        const queued = (await Promise.all([a.scheduleInterval(), b.scheduleInterval()])).filter((x) => x !== null)
        expect(queued).toHaveLength(1)
        expect(await a.scheduleInterval()).toBeNull() // same interval: nothing more
        // after a build: once per snapshot whoever asks
        const builds = (await Promise.all([a.afterBuild('snap-1'), b.afterBuild('snap-1')])).filter((x) => x !== null)
        expect(builds).toHaveLength(0) // snap-1's build run exists already
        const before = chain.calls.filter((c) => c.method === 'eth_blockNumber').length
        const outs = await Promise.all([a.runOnce(), b.runOnce()])
        const ran = outs.filter((o) => o !== null)
        expect(ran).toHaveLength(1)
        expect(ran[0]!.id).toBe(queued[0])
        expect(ran[0]!.recorded).toBe(true)
        expect(chain.calls.filter((c) => c.method === 'eth_blockNumber').length - before).toBe(1)
        expect(await Promise.all([a.runOnce(), b.runOnce()])).toEqual([null, null])
        const rows = await db.sql.query(
          `SELECT count(*)::int AS n FROM reserves_reconciliations WHERE trigger = 'interval'`,
        )
        expect(Number(rows[0]!.n)).toBe(1)
      } finally {
        await other.close()
      }
    })
  })
}
