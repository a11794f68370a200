// One active arbitrage executor and a standby on the same trading account and PostgreSQL: the
// standby (`--standby`) starts while the active one holds the signing lease, never trades while
// it does, and takes over when the active one stops heartbeating (a crash: nothing released) —
// without a double trade: every trade in the shared table is one opportunity, one transaction,
// and the old executor, if it wakes up, trades no more.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@cairn/service-kit'
import { openPostgres } from '@cairn/service-kit/sql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { type ArbService, startArbService } from '../../packages/arbitrage/src/service/service.ts'
import { PG_URL, postgresReachable } from '../../packages/arbitrage/test/store-backends.ts'
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
const up = await postgresReachable()

describe.skipIf(!up)('an active arbitrage executor and its standby', () => {
  let c: TestChain
  let active: ArbService
  let standby: ArbService
  let BW: Address
  let W: Address
  let schema = ''
  const dir = mkdtempSync(join(tmpdir(), 'arb-standby-'))
  const services: ArbService[] = []
  let start: (id: string, isStandby: boolean) => Promise<ArbService>

  beforeAll(async () => {
    c = await startCairn()
    const [f1, f2] = [await deployFactory(c), await deployFactory(c)]
    W = await deployToken(c, 10n ** 12n * E18)
    const A = await deployToken(c, 10n ** 12n * E18)
    const B = await deployToken(c, 10n ** 12n * E18)
    for (const t of [W, A, B]) await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
    for (const [f, x, y] of [
      [f1, W, A],
      [f2, W, A],
      [f1, A, B],
      [f1, B, W],
    ] as const) {
      const p = await createPair(c, f, x, y)
      if (x === B) BW = p
      await addLiquidity(c, p, x, 10_000n * E18, y, 10_000n * E18)
    }
    const executor = await deployExecutor(c, 0)
    writeFileSync(join(dir, 'key'), `${DEV_KEY_0}\n`, { mode: 0o600 })
    schema = `arb_standby_${process.pid}_${Math.floor(Math.random() * 1e9)}`
    const admin = await openPostgres(PG_URL, { max: 1 })
    await admin.exec(`CREATE SCHEMA ${schema}`)
    await admin.close()
    start = async (id: string, isStandby: boolean) => {
      const svc = await startArbService(
        {
          rpc: c.url,
          databaseUrl: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          datadir: null,
          key: { keyFile: join(dir, 'key') },
          executor,
          base: W,
          factories: [f1, f2].map((address) => ({ address, fee: { num: 997n, den: 1000n } })),
          maxHops: 3,
          pollMs: 3_600_000, // ticks by hand
          http: null,
          auth: { jwtSecret: null, apiKeys: [] },
          queue: { kind: 'memory' },
          runner: { role: 'all', executorId: id, standby: isStandby },
        },
        { logger: createLogger({ level: 'error', format: 'json' }) },
      )
      services.push(svc)
      return svc
    }
    active = await start('active', false)
    standby = await start('standby', true)
  }, 180_000)

  afterAll(async () => {
    for (const s of services.reverse()) await s.close().catch(() => {})
    if (up && schema) {
      const admin = await openPostgres(PG_URL, { max: 1 })
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.close()
    }
    await c?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const lease = async (svc: ArbService) => /^cairn_arb_signer_lease 1$/m.test(await svc.registry.metrics())
  const trades = async () =>
    (await active.sql.query('SELECT opportunity_id, executor, tx_hash FROM arb_trades ORDER BY at, block')) as {
      opportunity_id: string
      executor: string
      tx_hash: string
    }[]
  const tickBoth = async () => {
    for (const s of [active, standby]) {
      await s.tick()
      await s.idle()
    }
  }

  it('the standby waits while the active one trades', async () => {
    expect(await lease(active)).toBe(true)
    expect(await lease(standby)).toBe(false)
    await swap(c, 2, BW, W, 1500n * E18)
    await tickBoth()
    const t = await trades()
    expect(t).toHaveLength(1)
    expect(t[0]?.executor).toBe('active')
    // A third executor without --standby is refused at start, naming the way out.
    await expect(start('third', false)).rejects.toThrow(/another executor holds the nonces/)
  }, 120_000)

  it('takes over when the active one stops heartbeating, with no double trade', async () => {
    // The active executor hangs (or dies without releasing anything): its heartbeat goes stale
    // (older than 20 poll intervals, 20 h here).
    await active.sql.query("UPDATE arb_signers SET heartbeat = now() - interval '21 hours' WHERE owner = 'active'")
    await swap(c, 2, BW, W, 1500n * E18)
    await standby.tick()
    await standby.idle()
    expect(await lease(standby)).toBe(true)
    let t = await trades()
    expect(t).toHaveLength(2)
    expect(t[1]?.executor).toBe('standby')
    // The old one wakes up: it cannot confirm the lease, and trades nothing.
    await swap(c, 2, BW, W, 1500n * E18)
    await active.tick()
    await active.idle()
    expect(await lease(active)).toBe(false)
    await standby.tick()
    await standby.idle()
    t = await trades()
    expect(t.map((x) => x.executor)).toEqual(['active', 'standby', 'standby'])
    expect(new Set(t.map((x) => x.opportunity_id)).size).toBe(t.length)
    expect(new Set(t.map((x) => x.tx_hash)).size).toBe(t.length)
  }, 120_000)
})
