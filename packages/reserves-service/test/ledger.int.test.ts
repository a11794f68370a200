// The live ledger (docs/reserves/ledger.md) on PGlite and PostgreSQL: batches of signed deltas
// applied whole or not at all, at most once per idempotency key; a freeze cuts it into a snapshot
// whose proofs show the balances of that moment, while later batches change only the ledger.

import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('ledger-test-secret-ledger-test!!!')
const key = parseKeyFile('7e'.repeat(32))
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const admin = bearer('admin', 'ops')
const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the ledger tests on PostgreSQL: ${pgDown}`)

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`the ledger on ${driver}`, () => {
    let db: OpenedSql
    let svc: ReservesService
    const call = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: unknown,
      headers: Record<string, string> = admin,
    ) => svc.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    const changes = (body: unknown, idem?: string) =>
      call('POST', '/v1/ledger/changes', body, idem ? { ...admin, 'idempotency-key': idem } : admin)
    const balancesOf = async (u: string) => (await call('GET', `/v1/ledger/users/${u}`)).json().balances
    beforeAll(async () => {
      db = await openTestSql(driver)
      svc = createReservesService(
        { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 4 },
        { sql: db.sql, key, logger: silentLogger },
      )
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
    })

    it('needs its currencies first, and keeps them once it holds balances', async () => {
      const early = await changes({ changes: [{ userId: 'alice', deltas: { BTC: '1' } }] })
      expect(early.statusCode).toBe(400)
      expect(early.json().message).toMatch(/no currencies yet/)
      const set = await call('PUT', '/v1/ledger/currencies', {
        currencies: [
          { symbol: 'BTC', decimals: 8 },
          { symbol: 'ETH', decimals: 18 },
        ],
      })
      expect(set.statusCode, set.body).toBe(200)
      expect(set.json()).toMatchObject({ seq: 0, users: 0 })
    })

    it('applies a batch whole: deltas, set balances, new users; a refused batch changes nothing', async () => {
      const ok = await changes({
        changes: [
          { userId: 'alice', deltas: { BTC: '+500', ETH: '7' } },
          { userId: 'bob', balances: { BTC: '20' } },
        ],
      })
      expect(ok.statusCode, ok.body).toBe(200)
      expect(ok.json()).toEqual({ seq: 1, changed: 0, added: 2, removed: 0, replayed: false })
      expect(await balancesOf('alice')).toEqual({ BTC: '500', ETH: '7' })
      expect(await balancesOf('bob')).toEqual({ BTC: '20', ETH: '0' })

      // alice would go negative, DOGE is unknown, carol holds nothing to remove: all refused, none applied.
      const bad = await changes({
        changes: [
          { userId: 'bob', deltas: { BTC: '-5' } },
          { userId: 'alice', deltas: { BTC: '-501' } },
          { userId: 'bob', deltas: { DOGE: '1' } },
          { userId: 'carol', remove: true },
        ],
      })
      expect(bad.statusCode).toBe(400)
      expect(bad.json()).toMatchObject({ code: 'RESERVES_INPUT_INVALID' })
      expect(bad.json().errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 4])
      expect(bad.json().errors[0].reason).toMatch(/alice: BTC would be -1/)
      expect(await balancesOf('bob')).toEqual({ BTC: '20', ETH: '0' })
      expect((await call('GET', '/v1/ledger')).json()).toMatchObject({ seq: 1, users: 2 })

      const shape = await changes({ changes: [{ userId: 'x', deltas: { BTC: '1.5' } }] })
      expect(shape.statusCode).toBe(400)
      expect(shape.json().errors[0].reason).toMatch(/not a signed integer/)
      expect((await changes({ changes: [] })).statusCode).toBe(400)
    })

    it('applies a batch once per idempotency key; the key with another body is a 409', async () => {
      const body = { changes: [{ userId: 'bob', deltas: { BTC: '-5' } }] }
      const first = await changes(body, 'batch-42')
      expect(first.json()).toEqual({ seq: 2, changed: 1, added: 0, removed: 0, replayed: false })
      const again = await changes(body, 'batch-42')
      expect(again.statusCode).toBe(200)
      expect(again.json()).toEqual({ seq: 2, changed: 1, added: 0, removed: 0, replayed: true })
      expect(await balancesOf('bob')).toEqual({ BTC: '15', ETH: '0' })
      const other = await changes({ changes: [{ userId: 'bob', deltas: { BTC: '-1' } }] }, 'batch-42')
      expect(other.statusCode).toBe(409)
      expect(other.json().code).toBe('RESERVES_LEDGER_CONFLICT')
    })

    it('freezes the ledger into a snapshot; later batches change only the ledger', async () => {
      const frozen = await call('POST', '/v1/ledger/freeze', { id: `l1-${driver}` })
      expect(frozen.statusCode, frozen.body).toBe(202)
      expect(frozen.json()).toMatchObject({ id: `l1-${driver}`, ledgerSeq: 2, users: 2 })
      await changes({
        changes: [
          { userId: 'alice', deltas: { BTC: '-100' } },
          { userId: 'bob', remove: true },
          { userId: 'carol', deltas: { ETH: '3' } },
        ],
      })
      await svc.idle()
      const snap = (await call('GET', `/v1/snapshots/l1-${driver}`)).json()
      expect(snap).toMatchObject({ status: 'built', userCount: 2 })
      expect(snap.root.balances).toEqual(['515', '7'])
      const proof = (await call('GET', `/v1/snapshots/l1-${driver}/proof`, undefined, bearer('user', 'alice'))).json()
      expect(proof.balances).toEqual({ BTC: '500', ETH: '7' })
      expect(verifyProof(proof, { expectedRoot: snap.root.hash }).ok).toBe(true)

      const second = await call('POST', '/v1/ledger/freeze', { id: `l2-${driver}` })
      expect(second.json()).toMatchObject({ ledgerSeq: 3, users: 2 })
      await svc.idle()
      const snap2 = (await call('GET', `/v1/snapshots/l2-${driver}`)).json()
      expect(snap2.root.balances).toEqual(['400', '10'])
      // The user's history shows both moments.
      const history = (await call('GET', '/v1/me/history', undefined, bearer('user', 'alice'))).json()
      expect(history.items.map((i: { balances: { BTC: string } }) => i.balances.BTC)).toEqual(['400', '500'])
      // A repeat of the freeze is answered as the first time (docs/reserves/ledger.md), not cut
      // again; with other parameters it is refused; the cut table is left empty.
      const repeat = await call('POST', '/v1/ledger/freeze', { id: `l2-${driver}` })
      expect(repeat.statusCode).toBe(202)
      expect(repeat.json()).toEqual(second.json())
      const other = await call('POST', '/v1/ledger/freeze', { id: `l2-${driver}`, minDepth: 6 })
      expect(other.statusCode).toBe(409)
      expect(other.json().message).toBe(`freeze id l2-${driver} was used with other parameters`)
      expect(await db.sql.query('SELECT * FROM reserves_ledger_cuts')).toEqual([])
    })

    it('keeps ids and balances sealed, and audits batches and reads without user ids', async () => {
      const text = JSON.stringify(await db.sql.query('SELECT * FROM reserves_ledger'))
      expect(text).not.toContain('alice')
      const audit = (await call('GET', '/v1/audit?limit=1000')).json()
      const actions = audit.entries.map((e: { action: string }) => e.action)
      expect(actions).toEqual(expect.arrayContaining(['ledger.currencies', 'ledger.changed', 'ledger.read']))
      expect(JSON.stringify(audit.entries)).not.toMatch(/alice|bob|carol/)
      expect((await call('GET', '/v1/audit/verify')).json().ok).toBe(true)
    })

    it('is for admins (auditors may read its state); a user has no access', async () => {
      expect((await call('GET', '/v1/ledger', undefined, bearer('auditor', 'kpmg'))).statusCode).toBe(200)
      expect((await changes({ changes: [{ userId: 'a', deltas: { BTC: '1' } }] }, undefined)).statusCode).toBe(200)
      const auditor = await call(
        'POST',
        '/v1/ledger/changes',
        { changes: [{ userId: 'a', deltas: { BTC: '1' } }] },
        bearer('auditor', 'kpmg'),
      )
      expect(auditor.statusCode).toBe(403)
      expect((await call('GET', '/v1/ledger', undefined, bearer('user', 'alice'))).statusCode).toBe(403)
      const metrics = (await call('GET', '/metrics', undefined, {})).body
      expect(metrics).toMatch(/cairn_reserves_ledger_changes_total\{kind="added"\} [1-9]/)
      expect(metrics).toMatch(/cairn_reserves_ledger_freezes_total 2/)
    })
  })
}
