// A retried ledger freeze (docs/reserves/ledger.md), on PGlite and PostgreSQL: the same freeze id
// sent again while the first request is still reading its cut, with a batch landing in between,
// must neither mix two moments of the ledger in one snapshot nor fail on a duplicate key. The race
// is driven, not hoped for: the ledger store is wrapped so the first freeze pauses after the first
// page of its cut until the test lets it go.

import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { LedgerStore } from '../src/features/ledger/store.ts'
import { INPUT_PART } from '../src/jobs/build-input.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('ledger-retry-secret-ledger-retry!!')
const key = parseKeyFile('5c'.repeat(32))
const bearer = (role: 'admin' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const admin = bearer('admin', 'ops')
const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the freeze retry test on PostgreSQL: ${pgDown}`)

/** More users than one page of a cut, so that a freeze reads its cut in two pages. */
const USERS = INPUT_PART + 100
const user = (i: number) => `user-${String(i).padStart(5, '0')}`

/** A promise and its resolver. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {}
  const wait = new Promise<void>((r) => {
    open = r
  })
  return { wait, open }
}

/**
 * The ledger store with a pause in the first cut read: after its first page, the read tells
 * `paused` and waits for `resume`. A later freeze that reaches a cut read tells `secondPaused`
 * and waits for `secondResume` (the race as it was: two requests reading cuts of one id).
 */
class PausingLedger extends LedgerStore {
  reads = 0
  readonly paused = gate()
  readonly resume = gate()
  readonly secondPaused = gate()
  readonly secondResume = gate()

  override async *cutEntries(...args: Parameters<LedgerStore['cutEntries']>) {
    const n = ++this.reads
    let page = 0
    for await (const entries of super.cutEntries(...args)) {
      yield entries
      if (page++ > 0) continue
      if (n === 1) {
        this.paused.open()
        await this.resume.wait
      } else if (n === 2) {
        this.secondPaused.open()
        await this.secondResume.wait
      }
    }
  }
}

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`a retried ledger freeze on ${driver}`, () => {
    let db: OpenedSql
    let svc: ReservesService
    let ledger: PausingLedger
    const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers = admin) =>
      svc.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    beforeAll(async () => {
      db = await openTestSql(driver)
      ledger = new PausingLedger(db.sql, key)
      svc = createReservesService(
        { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 4 },
        { sql: db.sql, key, logger: silentLogger, ledger },
      )
      expect(
        (await call('PUT', '/v1/ledger/currencies', { currencies: [{ symbol: 'BTC', decimals: 8 }] })).statusCode,
      ).toBe(200)
      const all = Array.from({ length: USERS }, (_, i) => ({ userId: user(i), balances: { BTC: '1000' } }))
      const first = await call('POST', '/v1/ledger/changes', { changes: all })
      expect(first.json()).toMatchObject({ seq: 1, added: USERS })
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
    })

    it('cuts once: the repeat is answered, never cut again, and the snapshot is one moment', async () => {
      // The first request cuts the ledger after batch 1 and pauses in the middle of reading its cut.
      const first = call('POST', '/v1/ledger/freeze', { id: 'race' })
      await ledger.paused.wait
      // Batch 2 lands: every user gains 1.
      const all = Array.from({ length: USERS }, (_, i) => ({ userId: user(i), deltas: { BTC: '+1' } }))
      expect((await call('POST', '/v1/ledger/changes', { changes: all })).json()).toMatchObject({ seq: 2 })
      // The same request again (a client's retry after a timeout), while the first is still reading.
      const retry = call('POST', '/v1/ledger/freeze', { id: 'race' })
      const retryAnswered = retry.then(() => 'answered' as const)
      const early = await Promise.race([retryAnswered, ledger.secondPaused.wait.then(() => 'cutting' as const)])
      ledger.resume.open()
      const firstAnswer = await first
      ledger.secondResume.open()
      const retryAnswer = await retry

      expect(firstAnswer.statusCode, firstAnswer.body).toBe(202)
      expect(firstAnswer.json()).toMatchObject({ id: 'race', ledgerSeq: 1, users: USERS })
      // The snapshot holds batch 1's balances for every user: the moment it declares.
      await svc.idle()
      const snap = (await call('GET', '/v1/snapshots/race')).json()
      expect(snap.root.balances).toEqual([String(1000 * USERS)])
      expect(snap).toMatchObject({ status: 'built', userCount: USERS })
      // The repeat never cut the ledger again: it was told the freeze is under way (409), not a 503.
      expect(retryAnswer.statusCode, retryAnswer.body).toBe(409)
      expect(retryAnswer.json()).toMatchObject({ code: 'RESERVES_LEDGER_CONFLICT' })
      expect(retryAnswer.json().message).toMatch(/freeze race is in progress/)
      expect(early).toBe('answered')
      expect(ledger.reads).toBe(1)
      for (const i of [0, USERS - 1]) {
        const proof = (await call('GET', '/v1/snapshots/race/proof', undefined, bearer('user', user(i)))).json()
        expect(proof.balances).toEqual({ BTC: '1000' })
        expect(verifyProof(proof, { expectedRoot: snap.root.hash }).ok).toBe(true)
      }
      expect(await db.sql.query('SELECT * FROM reserves_ledger_cuts')).toEqual([])
    })

    it('answers a repeat with the same parameters as the first time, and refuses other parameters (409)', async () => {
      const again = await call('POST', '/v1/ledger/freeze', { id: 'race' })
      expect(again.statusCode, again.body).toBe(202)
      expect(again.json()).toEqual({ id: 'race', status: 'building', ledgerSeq: 1, users: USERS })
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(ledger.reads).toBe(1)
      // The defaults are parameters too: the same freeze spelled out is the same freeze.
      const spelled = await call('POST', '/v1/ledger/freeze', { id: 'race', hash: 'sha256', minDepth: 4 })
      expect(spelled.statusCode, spelled.body).toBe(202)

      const other = await call('POST', '/v1/ledger/freeze', { id: 'race', hash: 'keccak256' })
      expect(other.statusCode).toBe(409)
      expect(other.json()).toMatchObject({ code: 'RESERVES_LEDGER_CONFLICT' })
      expect(other.json().message).toBe('freeze id race was used with other parameters')
      expect(other.json().hint).toMatch(/choose a new id/)
      expect(ledger.reads).toBe(1)
    })
  })
}
