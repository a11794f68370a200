// A ledger freeze with a base (docs/reserves/ledger.md) on PGlite and PostgreSQL: the next
// snapshot of the base's chain, built incrementally from the users the ledger's batches touched
// since the base was frozen. It must hold what a full freeze at that moment holds (users,
// balances, totals), every proof verifies, unchanged users keep their leaf, and the chain's rules
// and the freeze's own refusals hold.

import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('ledger-incremental-secret-32b!!!!')
const key = parseKeyFile('5d'.repeat(32))
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the incremental ledger freeze tests on PostgreSQL: ${pgDown}`)

type Held = Map<string, [bigint, bigint]>

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`a ledger freeze with a base on ${driver}`, () => {
    let db: OpenedSql
    let svc: ReservesService
    const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
      svc.app.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) })
    const batch = async (changes: unknown[]) => {
      const r = await call('POST', '/v1/ledger/changes', { changes })
      expect(r.statusCode, r.body).toBe(200)
    }
    const proofOf = async (id: string, u: string) => call('GET', `/v1/snapshots/${id}/proofs/${u}`)
    /** The ledger as the test keeps it (what a full freeze now holds). */
    const ledger: Held = new Map()
    const apply = (c: {
      userId: string
      deltas?: Record<string, string>
      balances?: Record<string, string>
      remove?: true
    }) => {
      if (c.remove) return ledger.delete(c.userId)
      const old = c.deltas ? (ledger.get(c.userId) ?? [0n, 0n]) : [0n, 0n]
      const a = c.deltas ?? c.balances ?? {}
      ledger.set(c.userId, [old[0]! + BigInt(a.BTC ?? 0), old[1]! + BigInt(a.ETH ?? 0)])
    }
    const send = async (changes: Parameters<typeof apply>[0][]) => {
      await batch(changes)
      for (const c of changes) apply(c)
    }
    /** The snapshot holds exactly `held`: user count, totals, each user's balances, every proof verifies. */
    const holdsExactly = async (id: string, held: Held, gone: string[]) => {
      const snap = (await call('GET', `/v1/snapshots/${id}`)).json()
      expect(snap.status, JSON.stringify(snap)).toBe('built')
      expect(snap.userCount).toBe(held.size)
      const totals = [...held.values()].reduce((t, b) => [t[0]! + b[0], t[1]! + b[1]], [0n, 0n])
      expect(snap.root.balances).toEqual(totals.map(String))
      const leaves = new Map<string, number>()
      for (const [u, b] of held) {
        const r = await proofOf(id, u)
        expect(r.statusCode, `${id} ${u}`).toBe(200)
        const p = r.json()
        expect(p.balances, `${id} ${u}`).toEqual({ BTC: String(b[0]), ETH: String(b[1]) })
        expect(verifyProof(p, { expectedRoot: snap.root.hash }).ok, `${id} ${u}`).toBe(true)
        leaves.set(u, p.leafIndex)
      }
      for (const u of gone) expect((await proofOf(id, u)).statusCode, `${id} ${u}`).toBe(404)
      return { snap, leaves }
    }

    beforeAll(async () => {
      db = await openTestSql(driver)
      svc = createReservesService(
        { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 6 },
        { sql: db.sql, key, logger: silentLogger },
      )
      const cur = await call('PUT', '/v1/ledger/currencies', {
        currencies: [
          { symbol: 'BTC', decimals: 8 },
          { symbol: 'ETH', decimals: 18 },
        ],
      })
      expect(cur.statusCode, cur.body).toBe(200)
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
    })

    it('builds from the ledger changes since the base what a full freeze builds', async () => {
      await send(
        Array.from({ length: 20 }, (_, i) => ({ userId: `u${i}`, balances: { BTC: `${100 + i}`, ETH: `${i}` } })),
      )
      await send([{ userId: 'u0', deltas: { ETH: '+5' } }])
      const b0 = await call('POST', '/v1/ledger/freeze', { id: 'b0' })
      expect(b0.statusCode, b0.body).toBe(202)
      expect(b0.json()).toMatchObject({ ledgerSeq: 2, users: 20 })
      await svc.idle()
      const base = await holdsExactly('b0', new Map(ledger), [])

      // nothing changed since b0: refused, the base already holds these balances
      const same = await call('POST', '/v1/ledger/freeze', { id: 'same', base: 'b0' })
      expect(same.statusCode, same.body).toBe(409)
      expect(same.json()).toMatchObject({ code: 'RESERVES_LEDGER_CONFLICT' })
      expect(same.json().message).toMatch(/nothing changed/)

      // deltas, set balances, removals, new users; a user added and removed since b0 (not in b0);
      // a user removed then added back; a user set to the balances it had
      await send([
        { userId: 'u1', deltas: { BTC: '-50', ETH: '+3' } },
        { userId: 'u2', deltas: { BTC: '+1' } },
        { userId: 'u3', balances: { ETH: '9' } },
        { userId: 'u4', remove: true },
        { userId: 'n1', deltas: { BTC: '7' } },
        { userId: 'n3', balances: { BTC: '1' } },
        { userId: 'u6', remove: true },
      ])
      await send([
        { userId: 'u5', remove: true },
        { userId: 'n2', balances: { BTC: '2', ETH: '3' } },
        { userId: 'n3', remove: true },
        { userId: 'u6', balances: { BTC: '66' } },
        { userId: 'u7', balances: { BTC: '107', ETH: '7' } },
        { userId: 'u1', deltas: { BTC: '+1' } },
      ])
      const i1 = await call('POST', '/v1/ledger/freeze', { id: 'i1', base: 'b0' })
      expect(i1.statusCode, i1.body).toBe(202)
      // u1 u2 u3 u4 n1 u5 n2 u6 u7 (n3 was never in b0: not a change)
      expect(i1.json()).toEqual({ id: 'i1', status: 'building', base: 'b0', ledgerSeq: 4, users: 20, changes: 9 })
      // a full freeze of the same moment
      expect((await call('POST', '/v1/ledger/freeze', { id: 'f1' })).statusCode).toBe(202)
      await svc.idle()
      const gone = ['u4', 'u5', 'n3']
      const inc = await holdsExactly('i1', ledger, gone)
      const full = await holdsExactly('f1', ledger, gone)
      expect(inc.snap.base).toBe('b0')
      expect(inc.snap.userCount).toBe(full.snap.userCount)
      expect(inc.snap.root.balances).toEqual(full.snap.root.balances)
      // unchanged users keep their leaf (and its hash: same salt and balances)
      for (const u of ['u0', 'u8', 'u10', 'u19']) {
        expect(inc.leaves.get(u)).toBe(base.leaves.get(u))
        const [a, b] = [(await proofOf('b0', u)).json(), (await proofOf('i1', u)).json()]
        expect(b.salt).toBe(a.salt)
      }
      // b0 still serves what it held
      expect((await proofOf('b0', 'u4')).statusCode).toBe(200)
      expect((await proofOf('b0', 'n1')).statusCode).toBe(404)
    })

    it('refuses a base that is not the chain tip, or was not made by a freeze; "latest" follows the last freeze', async () => {
      await send([{ userId: 'u9', deltas: { BTC: '+1' } }])
      const notTip = await call('POST', '/v1/ledger/freeze', { id: 'x0', base: 'b0' })
      expect(notTip.statusCode, notTip.body).toBe(409)
      expect(notTip.json()).toMatchObject({ code: 'RESERVES_SNAPSHOT_EXISTS' })
      expect(notTip.json().message).toMatch(/i1 already follows b0/)

      // a snapshot built by /next from a change list is no ledger freeze
      const nx = await call('POST', '/v1/snapshots/i1/next', {
        id: 'n-i1',
        changes: [{ userId: 'u0', balances: { BTC: '1', ETH: '1' } }],
      })
      expect(nx.statusCode, nx.body).toBe(202)
      await svc.idle()
      const notFrozen = await call('POST', '/v1/ledger/freeze', { id: 'x1', base: 'n-i1' })
      expect(notFrozen.statusCode, notFrozen.body).toBe(400)
      expect(notFrozen.json()).toMatchObject({ code: 'RESERVES_BAD_OPTIONS' })
      expect(notFrozen.json().message).toMatch(/not made by a ledger freeze/)
      expect(notFrozen.json().hint).toMatch(/POST \/v1\/ledger\/freeze/)
      const unknown = await call('POST', '/v1/ledger/freeze', { id: 'x2', base: 'nope' })
      expect(unknown.statusCode).toBe(404)
      const withHash = await call('POST', '/v1/ledger/freeze', { id: 'x3', base: 'f1', hash: 'keccak256' })
      expect(withHash.statusCode).toBe(400)

      // the last freeze is f1 (a full one): "latest" builds on it, then on its successor
      const l1 = await call('POST', '/v1/ledger/freeze', { id: 'l1', base: 'latest' })
      expect(l1.statusCode, l1.body).toBe(202)
      expect(l1.json()).toMatchObject({ base: 'f1', changes: 1 })
      await svc.idle()
      await holdsExactly('l1', ledger, ['u4'])
      await send([{ userId: 'u4', balances: { BTC: '4' } }])
      const l2 = await call('POST', '/v1/ledger/freeze', { id: 'l2', base: 'latest' })
      expect(l2.json()).toMatchObject({ base: 'l1', changes: 1 })
      await svc.idle()
      await holdsExactly('l2', ledger, [])
      expect(await db.sql.query('SELECT * FROM reserves_ledger_cuts')).toEqual([])
    })
  })
}
