// A user's own history across snapshots (GET /v1/me/history): the snapshots they are in, newest
// first, with their balances and the root; snapshots without them are skipped; paging continues
// the scan; other roles are refused.

import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('history-test-secret-history-test!')
const key = parseKeyFile('ab'.repeat(32))
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const SNAPSHOTS: [string, string][] = [
  ['h1', 'userId,BTC,ETH\nalice,100,1\nbob,5,0\n'],
  ['h2', 'userId,BTC,ETH\nbob,6,0\ncarol,1,1\n'],
  ['h3', 'userId,BTC,ETH\nalice,250,0\nbob,7,3\n'],
]

describe('a user’s balance history', () => {
  let db: OpenedSql
  let svc: ReservesService
  const get = (url: string, headers: Record<string, string>) => svc.app.inject({ method: 'GET', url, headers })
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3 },
      { sql: db.sql, key, logger: silentLogger },
    )
    for (const [id, csv] of SNAPSHOTS) {
      const r = await svc.app.inject({
        method: 'POST',
        url: `/v1/snapshots?id=${id}&currencies=BTC:8,ETH:18`,
        headers: { ...bearer('admin', 'ops'), 'content-type': 'text/csv' },
        payload: csv,
      })
      expect(r.statusCode, r.body).toBe(202)
      await svc.idle()
    }
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it('lists the snapshots a user is in, newest first, with their balances and each snapshot’s root', async () => {
    const r = await get('/v1/me/history', bearer('user', 'alice'))
    expect(r.statusCode, r.body).toBe(200)
    const { items, next } = r.json()
    expect(next).toBeNull()
    expect(items.map((i: { snapshotId: string }) => i.snapshotId)).toEqual(['h3', 'h1'])
    expect(items.map((i: { balances: unknown }) => i.balances)).toEqual([
      { BTC: '250', ETH: '0' },
      { BTC: '100', ETH: '1' },
    ])
    for (const i of items) {
      const snap = (await get(`/v1/snapshots/${i.snapshotId}`, bearer('user', 'alice'))).json()
      expect(i.root).toEqual(snap.root)
      // The link is the user's own proof, which verifies against that root.
      const proof = (await get(i.proof, bearer('user', 'alice'))).json()
      expect(verifyProof(proof, { expectedRoot: i.root.hash }).ok).toBe(true)
    }
    const carol = (await get('/v1/me/history', bearer('user', 'carol'))).json()
    expect(carol.items.map((i: { snapshotId: string }) => i.snapshotId)).toEqual(['h2'])
    expect((await get('/v1/me/history', bearer('user', 'nobody'))).json().items).toEqual([])
  })

  it('pages over snapshots: a page of one may be empty for the user, and next continues', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const q: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1'
      const page = (await get(`/v1/me/history${q}`, bearer('user', 'carol'))).json()
      seen.push(...page.items.map((i: { snapshotId: string }) => i.snapshotId))
      cursor = page.next
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(seen).toEqual(['h2'])
  })

  it('is the user role’s own: staff are refused, a bad query is a 400', async () => {
    expect((await get('/v1/me/history', bearer('admin', 'ops'))).statusCode).toBe(403)
    expect((await get('/v1/me/history', bearer('auditor', 'kpmg'))).statusCode).toBe(403)
    expect((await get('/v1/me/history', {})).statusCode).toBe(401)
    const bad = await get('/v1/me/history?limit=0', bearer('user', 'alice'))
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'RESERVES_BAD_OPTIONS', message: 'bad history query' })
  })
})
