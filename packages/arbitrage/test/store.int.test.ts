// The store on both backends (PGlite; PostgreSQL when reachable): migrations, time partitions and
// retention, opportunities, trades and P&L, claims, the versioned and audited configuration, and the
// append-only audit log.
import type { Sql } from '@cairn/service-kit/sql'
import { appliedVersions } from '@cairn/service-kit/sql'
import { isCairnError } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArbErrorCode } from '../src/errors.ts'
import { ConfigStore } from '../src/store/config-store.ts'
import { ARB_MIGRATIONS, migrateArb } from '../src/store/migrations.ts'
import { applyRetention, ensurePartitions, partitionsOf } from '../src/store/partitions.ts'
import { ArbStore, type OpportunityRecord, type TradeRecord } from '../src/store/store.ts'
import { BACKENDS, postgresReachable } from './store-backends.ts'

const A = `0x${'a'.repeat(40)}` as const
const B = `0x${'b'.repeat(40)}` as const
const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 20, 12)

/** An opportunity record of the cycle p1>p2 (A → B → A) with `decision`. */
function opportunity(id: string, atMs: number, block: bigint, decision: string): OpportunityRecord {
  return {
    id,
    at: new Date(atMs),
    block,
    cycleKey: 'p1>p2',
    baseToken: A,
    tokens: [A, B, A],
    pools: [B, B],
    amountIn: 10n,
    grossProfit: 3n,
    gasCost: 1n,
    netProfit: 2n,
    decision,
    detail: null,
  }
}

function trade(i: number, over: Partial<TradeRecord> = {}): TradeRecord {
  return {
    txHash: `0x${i.toString(16).padStart(64, '0')}`,
    opportunityId: `o${i}`,
    at: new Date(T0 + i * 60_000),
    block: BigInt(100 + i),
    status: 'success',
    token: A,
    amountIn: 10n ** 18n,
    profit: 5n * 10n ** 15n,
    gasUsed: 200_000n,
    gasPrice: 10n ** 9n,
    gasCostBase: 2n * 10n ** 14n,
    realized: 5n * 10n ** 15n - 2n * 10n ** 14n,
    executor: 'x1',
    ...over,
  }
}

for (const backend of BACKENDS) {
  describe(`arbitrage store on ${backend.name}`, () => {
    let sql: Sql
    let close = async () => {}
    let skip = false
    beforeAll(async () => {
      if (backend.name === 'postgres' && !(await postgresReachable())) {
        skip = true
        return
      }
      ;({ sql, close } = await backend.open())
    }, 60_000)
    afterAll(() => close())

    it('migrates once: a second run applies nothing', async (ctx) => {
      if (skip) return ctx.skip()
      expect(await appliedVersions(sql, 'arb_migrations')).toEqual(ARB_MIGRATIONS.map((m) => m.version))
      expect(await migrateArb(sql)).toEqual([])
    })

    it("sees only its own schema's partitions: another schema's arb tables in the database are not its", async (ctx) => {
      if (skip) return ctx.skip()
      // A second store beside this one (on PostgreSQL: another schema of the same database; on
      // PGlite: another database), with partitions of days this one never makes.
      const other = await backend.open()
      try {
        expect(await ensurePartitions(other.sql, Date.UTC(2031, 0, 10), 1, 1)).toHaveLength(6)
        for (const table of ['arb_reserves', 'arb_opportunities'] as const) {
          expect((await partitionsOf(sql, table)).filter((n) => n.includes('2031'))).toEqual([])
          expect(await partitionsOf(other.sql, table)).toEqual([
            `${table}_p20310109`,
            `${table}_p20310110`,
            `${table}_p20310111`,
          ])
        }
        // and its retention drops only its own (here: everything of the other's, 10 years later)
        expect(await applyRetention(other.sql, Date.UTC(2041, 0, 1), 30)).toHaveLength(6)
      } finally {
        await other.close()
      }
    })

    it('keeps pools, reserve history and opportunities in daily partitions, and drops them past retention', async (ctx) => {
      if (skip) return ctx.skip()
      const store = new ArbStore(sql)
      const pool = {
        address: B,
        token0: A,
        token1: B,
        fee: { num: 997n, den: 1000n },
        reserve0: 2n ** 200n,
        reserve1: 7n,
      } as const
      await store.upsertPools([pool], 5n, new Date(T0))
      await store.upsertPools([{ ...pool, reserve1: 9n }], 6n, new Date(T0))
      expect((await store.listPools()).map((p) => [p.reserve0, p.reserve1, p.updatedBlock])).toEqual([
        [2n ** 200n, 9n, 6n],
      ])
      // a row written before its day's partition exists lands in the default one and moves over
      await store.recordReserves([{ pool: B, block: 1n, reserve0: 1n, reserve1: 2n, at: new Date(T0 - 3 * DAY) }])
      await ensurePartitions(sql, T0, 1, 3)
      expect(await partitionsOf(sql, 'arb_reserves')).toEqual([
        'arb_reserves_p20261117',
        'arb_reserves_p20261118',
        'arb_reserves_p20261119',
        'arb_reserves_p20261120',
        'arb_reserves_p20261121',
      ])
      expect(await ensurePartitions(sql, T0, 1, 3)).toEqual([]) // idempotent
      await store.recordReserves([
        { pool: B, block: 2n, reserve0: 3n, reserve1: 4n, at: new Date(T0 - DAY) },
        { pool: B, block: 3n, reserve0: 5n, reserve1: 6n, at: new Date(T0) },
      ])
      for (const [i, at] of [T0 - 3 * DAY, T0].entries())
        await store.recordOpportunity(opportunity(`opp${i}`, at, BigInt(i), 'found'))
      expect((await store.reserveHistory(B, new Date(0))).map((r) => r.block)).toEqual([1n, 2n, 3n])
      const dropped = await applyRetention(sql, T0, 2)
      expect(dropped).toEqual(['arb_reserves_p20261117', 'arb_opportunities_p20261117'])
      expect((await store.reserveHistory(B, new Date(0))).map((r) => r.block)).toEqual([2n, 3n])
      expect((await store.listOpportunities()).map((o) => o.id)).toEqual(['opp1'])
    })

    it('lists opportunities by one decision or any of several, newest first', async (ctx) => {
      if (skip) return ctx.skip()
      const store = new ArbStore(sql)
      const decisions = ['found', 'simulation-failed', 'executed', 'found']
      // after the other tests' rows
      for (const [i, decision] of decisions.entries())
        await store.recordOpportunity(opportunity(`d${i}`, T0 + 600_000 + i * 1000, BigInt(i), decision))
      const since = new Date(T0 + 600_000)
      const ids = async (decision?: string | string[]) =>
        (await store.listOpportunities({ since, ...(decision ? { decision } : {}) })).map((o) => o.id)
      expect(await ids('found')).toEqual(['d3', 'd0'])
      expect(await ids(['simulation-failed', 'executed'])).toEqual(['d2', 'd1'])
      expect(await ids([])).toEqual([])
      expect(await ids()).toEqual(['d3', 'd2', 'd1', 'd0'])
    })

    it('records trades and sums realised P&L by token and hour', async (ctx) => {
      if (skip) return ctx.skip()
      const store = new ArbStore(sql)
      await store.recordTrade(trade(1))
      await store.recordTrade(trade(1)) // the same hash again: kept once
      await store.recordTrade(trade(2, { status: 'reverted', profit: 0n, realized: -(2n * 10n ** 14n) }))
      await store.recordTrade(trade(90, { token: B }))
      const pnl = await store.pnl({ bucket: 'hour' })
      expect(pnl).toEqual([
        {
          token: A,
          bucket: '2026-11-20T12:00:00.000Z',
          trades: 2,
          reverted: 1,
          profit: 5n * 10n ** 15n,
          gasCost: 4n * 10n ** 14n,
          realized: 5n * 10n ** 15n - 4n * 10n ** 14n,
        },
        expect.objectContaining({ token: B, bucket: '2026-11-20T13:00:00.000Z', trades: 1 }),
      ])
      expect(await store.realizedSince(new Date(T0 + 150_000))).toBe(trade(90).realized)
      expect((await store.listTrades({ limit: 2 })).map((t) => t.opportunityId)).toEqual(['o90', 'o2'])
    })

    it('claims an opportunity once, whoever asks', async (ctx) => {
      if (skip) return ctx.skip()
      const store = new ArbStore(sql)
      const results = await Promise.all(['x1', 'x2', 'x3'].map((o) => store.claim('opp-claim', o, new Date())))
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('lets one owner at a time hold a signing account, taken over only once its heartbeat is stale', async (ctx) => {
      if (skip) return ctx.skip()
      const store = new ArbStore(sql)
      const t = new Date(T0)
      expect(await store.holdSigner(A, 'x1', t, 10_000)).toBe(true)
      expect(await store.holdSigner(A, 'x2', new Date(T0 + 5_000), 10_000)).toBe(false)
      expect(await store.holdSigner(A, 'x1', new Date(T0 + 5_000), 10_000)).toBe(true) // heartbeat
      expect(await store.holdSigner(A, 'x2', new Date(T0 + 14_000), 10_000)).toBe(false)
      expect(await store.holdSigner(A, 'x2', new Date(T0 + 16_000), 10_000)).toBe(true) // x1 went silent
      await store.releaseSigner(A, 'x2')
      expect(await store.holdSigner(A, 'x3', new Date(T0 + 16_001), 10_000)).toBe(true)
    })

    it('validates, versions and audits configuration writes; the audit log refuses edits', async (ctx) => {
      if (skip) return ctx.skip()
      const cfg = new ConfigStore(sql)
      const store = new ArbStore(sql)
      const stamp0 = await cfg.stamp()
      const before = (await cfg.load()).config
      expect(before.minProfit).toBe('0')
      await expect(cfg.put('minProfit', '-1', { actor: 'ann', role: 'operator' })).rejects.toSatisfy((e) =>
        isCairnError(e, ArbErrorCode.CONFIG),
      )
      await expect(cfg.put('nope', 1, { actor: 'ann', role: 'operator' })).rejects.toSatisfy((e) =>
        isCairnError(e, ArbErrorCode.CONFIG),
      )
      await cfg.put('minProfit', '1000', { actor: 'ann', role: 'operator' })
      expect(await cfg.stamp()).not.toBe(stamp0)
      const e2 = await cfg.put('minProfit', '2000', { actor: 'bob', role: 'admin' }, 1)
      expect(e2.version).toBe(2)
      await expect(cfg.put('minProfit', '3000', { actor: 'bob', role: 'admin' }, 1)).rejects.toSatisfy((e) =>
        isCairnError(e, ArbErrorCode.CONFIG_CONFLICT),
      )
      expect((await cfg.load()).config.minProfit).toBe('2000')
      expect((await cfg.history('minProfit')).map((h) => [h.version, h.value, h.actor])).toEqual([
        [1, '1000', 'ann'],
        [2, '2000', 'bob'],
      ])
      const audit = (await store.listAudit()).filter((a) => a.action === 'config.set')
      expect(audit.map((a) => [a.actor, a.role, a.details])).toEqual([
        ['ann', 'operator', { key: 'minProfit', old: '0', new: '1000', version: 1 }],
        ['bob', 'admin', { key: 'minProfit', old: '1000', new: '2000', version: 2 }],
      ])
      await expect(sql.query('UPDATE arb_audit SET actor = $1', ['eve'])).rejects.toThrow(/append-only/)
      await expect(sql.query('DELETE FROM arb_audit')).rejects.toThrow(/append-only/)
      expect((await store.listAudit()).length).toBeGreaterThanOrEqual(2)
    })
  })
}
