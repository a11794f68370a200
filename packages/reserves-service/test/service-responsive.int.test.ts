// Storing a big snapshot must not stop the service: the users go in short statements (250 each,
// sent by the build thread), each in a macrotask of its own, so other requests' queries run in
// between (on PGlite, a single connection, a one-transaction store made every query wait: 104 s for
// 1M users).
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('responsive-test-secret-responsive')
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const USERS = 6_000

/** The Sql with the order in which statements finished: 'users' inserts and 'read's of snapshots. */
function recording(sql: Sql, done: string[]): Sql {
  const label = (text: string) =>
    text.startsWith('INSERT INTO reserves_users')
      ? 'users'
      : /^SELECT \* FROM reserves_snapshots/.test(text)
        ? 'read'
        : 'other'
  return {
    driver: sql.driver,
    exec: (t) => sql.exec(t),
    close: () => sql.close(),
    transaction: (fn) => sql.transaction((tx) => fn(recording(tx, done))),
    async query(text, params) {
      const rows = await sql.query(text, params)
      done.push(label(text))
      return rows as never
    },
  }
}

describe('storing a large snapshot', () => {
  let db: OpenedSql
  let svc: ReservesService
  const done: string[] = []
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 4 },
      { sql: recording(db.sql, done), key: parseKeyFile('ef'.repeat(32)), logger: silentLogger },
    )
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it('answers other requests between the chunks of users it stores', { timeout: 90_000 }, async () => {
    const csv = `userId,BTC\n${Array.from({ length: USERS }, (_, i) => `user-${i},${i + 1}`).join('\n')}\n`
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=big&currencies=BTC:8',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: csv,
    })
    expect(r.statusCode).toBe(202)
    let status = 'building'
    for (let polls = 0; status === 'building' && polls < 3000; polls++) {
      status = (await svc.app.inject({ method: 'GET', url: '/v1/snapshots/big', headers: admin })).json().status
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(status).toBe('built')
    const first = done.indexOf('users')
    const last = done.lastIndexOf('users')
    expect(last - first).toBeGreaterThan(10)
    const between = done.slice(first, last).filter((d) => d === 'read').length
    expect(between).toBeGreaterThan(0)
  })
})
