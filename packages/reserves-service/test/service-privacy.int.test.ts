// What the service keeps and shows about users: the audit trail names no user id (a keyed ref,
// as the users table), and a user sees of a snapshot only what a proof shows — not the exact user
// count nor the depth the random padding is there to hide.
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { DEFAULT_COMPLIANCE } from '../src/features/compliance/options.ts'
import { parseKeyFile, userKey } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('privacy-test-secret-privacy-test!')
const key = parseKeyFile('cd'.repeat(32))
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const CSV = 'userId,BTC\nalice-7f3a,150000000\nbob-19c2,1\ncarol-88d0,5\n'

describe('reserves privacy', () => {
  let db: OpenedSql
  let svc: ReservesService
  const get = (url: string, headers: Record<string, string>) => svc.app.inject({ method: 'GET', url, headers })
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        defaultMinDepth: 6,
        compliance: { ...DEFAULT_COMPLIANCE, auditorProofReaders: 'all' },
      },
      { sql: db.sql, key, logger: silentLogger },
    )
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=p1&currencies=BTC:8',
      headers: { ...bearer('admin', 'ops'), 'content-type': 'text/csv' },
      payload: CSV,
    })
    expect(r.statusCode).toBe(202)
    await svc.idle()
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it('a user sees no user count, depth or minimum depth; staff do', async () => {
    const alice = bearer('user', 'alice-7f3a')
    const one = (await get('/v1/snapshots/p1', alice)).json()
    const listed = (await get('/v1/snapshots', alice)).json().items[0]
    for (const s of [one, listed]) {
      expect(s.id).toBe('p1')
      expect(s.root).toBeDefined()
      expect(s).not.toHaveProperty('userCount')
      expect(s).not.toHaveProperty('depth')
      expect(s).not.toHaveProperty('minDepth')
    }
    const staff = (await get('/v1/snapshots/p1', bearer('auditor', 'kpmg'))).json()
    expect(staff).toMatchObject({ userCount: 3, depth: 6, minDepth: 6 })
  })

  it('the audit trail records proof reads by keyed refs, never user ids', async () => {
    const auditor = bearer('auditor', 'kpmg')
    expect((await get('/v1/snapshots/p1/proofs/alice-7f3a', auditor)).statusCode).toBe(200)
    const batch = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots/p1/proofs/batch',
      headers: auditor,
      payload: { userIds: ['bob-19c2', 'carol-88d0'] },
    })
    expect(batch.statusCode).toBe(200)
    const rows = await db.sql.query('SELECT * FROM reserves_audit')
    const text = JSON.stringify(rows)
    for (const id of ['alice-7f3a', 'bob-19c2', 'carol-88d0']) expect(text).not.toContain(id)
    const ref = (u: string) => Buffer.from(userKey(key, 'p1', u).subarray(0, 16)).toString('hex')
    const reads = (await get('/v1/audit', auditor))
      .json()
      .entries.filter((e: { action: string }) => e.action === 'proof.read')
    expect(reads.map((e: { details: { users: string[] } }) => e.details.users)).toEqual([
      [ref('alice-7f3a')],
      [ref('bob-19c2'), ref('carol-88d0')],
    ])
    expect((await get('/v1/audit/verify', auditor)).json().ok).toBe(true)
  })
})
