// Incremental snapshots in the service (POST /v1/snapshots/:id/next, kernel/chain.ts): a chain of
// three snapshots built from changes only, on PGlite and PostgreSQL. Each snapshot's every proof
// verifies against its root with the expected balances, its leaves rehash to its root, earlier
// snapshots of the chain serve what they served before, unchanged users keep leaf and salt; a
// build that fails takes back its rows; refusals at the edge; erasure reaches the whole chain.

import { digestFor, TreeHasher } from '@cairn/reserves'
import { encodeBalances, verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('incremental-test-secret-incremental')
const key = parseKeyFile('7e'.repeat(32))
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const pgMissing = await postgresUnavailable()
if (pgMissing) console.warn(`incremental.int: PostgreSQL case skipped (${pgMissing})`)

type Balances = Record<string, string>
type Change = { userId: string; balances: Balances } | { userId: string; remove: true }
const bal = (btc: number, eth: number): Balances => ({ BTC: String(btc), ETH: String(eth) })

describe.each(['pglite', 'pg'] as const)('incremental snapshots on %s', (driver) => {
  let db: OpenedSql
  let svc: ReservesService
  const skip = driver === 'pg' && pgMissing !== null
  const get = (url: string) => svc.app.inject({ method: 'GET', url, headers: admin })
  const next = (base: string, id: string, changes: Change[]) =>
    svc.app.inject({ method: 'POST', url: `/v1/snapshots/${base}/next`, headers: admin, payload: { id, changes } })
  /** What each snapshot should hold. */
  const holds = new Map<string, Map<string, Balances>>()
  const proofOf = async (id: string, u: string) => (await get(`/v1/snapshots/${id}/proofs/${u}`)).json()

  /** Every expected user's proof verifies with its balances; no one else is in; the leaves rehash to the root. */
  async function check(id: string): Promise<void> {
    const snap = (await get(`/v1/snapshots/${id}`)).json()
    expect(snap.status, snap.error).toBe('built')
    const want = holds.get(id)!
    expect(snap.userCount).toBe(want.size)
    const totals = [0n, 0n]
    for (const [u, b] of want) {
      const p = await proofOf(id, u)
      expect(p.balances, `${id}/${u}`).toEqual(b)
      const v = verifyProof(p, { expectedRoot: snap.root.hash })
      expect(v.ok, `${id}/${u}: ${v.reason}`).toBe(true)
      totals[0]! += BigInt(b.BTC!)
      totals[1]! += BigInt(b.ETH!)
    }
    expect(snap.root.balances).toEqual(totals.map(String))
    const leaves = (await get(`/v1/snapshots/${id}/leaves?limit=10000`)).json()
    expect(leaves.leaves).toHaveLength(leaves.total)
    // the leaf level rehashed by the full builder's kernel gives the root
    const hasher = new TreeHasher(digestFor('sha256'), 2)
    let level = {
      hashes: Buffer.concat(leaves.leaves.map((l: { hash: string }) => Buffer.from(l.hash.slice(2), 'hex'))),
      balances: Buffer.concat(
        leaves.leaves.map((l: { balances: string[] }) => Buffer.from(encodeBalances(l.balances.map(BigInt)))),
      ),
    }
    for (let n = leaves.total / 2; n >= 1; n /= 2) {
      const up = { hashes: new Uint8Array(n * 32), balances: new Uint8Array(n * 32) }
      expect(hasher.parents(level, 0, n, up, 0)).toBe(true)
      level = { hashes: Buffer.from(up.hashes), balances: Buffer.from(up.balances) }
    }
    expect(`0x${level.hashes.toString('hex')}`).toBe(snap.root.hash)
  }

  beforeAll(async () => {
    if (skip) return
    db = await openTestSql(driver)
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 6 },
      { sql: db.sql, key, logger: silentLogger },
    )
    const base = new Map(Array.from({ length: 40 }, (_, i) => [`u${i}`, bal(i + 1, 2 * i)] as const))
    holds.set('c0', base)
    const csv = `userId,BTC,ETH\n${[...base].map(([u, b]) => `${u},${b.BTC},${b.ETH}`).join('\n')}\n`
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=c0&currencies=BTC:8,ETH:18',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: csv,
    })
    expect(r.statusCode, r.body).toBe(202)
    await svc.idle()
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it.skipIf(skip)(
    'builds a chain from changes: every snapshot proves what it holds',
    { timeout: 180_000 },
    async () => {
      await check('c0')
      const before = new Map<string, { leafIndex: number; salt: string }>()
      for (const u of holds.get('c0')!.keys()) before.set(u, await proofOf('c0', u))
      // c1: 5 changed, 3 new, 4 removed
      const c1: Change[] = [
        ...[0, 1, 2, 3, 4].map((i) => ({ userId: `u${i}`, balances: bal(1000 + i, 7) })),
        ...[0, 1, 2].map((i) => ({ userId: `new${i}`, balances: bal(50 + i, 0) })),
        ...[10, 11, 12, 13].map((i) => ({ userId: `u${i}`, remove: true as const })),
      ]
      const r = await next('c0', 'c1', c1)
      expect(r.statusCode, r.body).toBe(202)
      expect(r.json()).toEqual({ id: 'c1', status: 'building', base: 'c0' })
      await svc.idle()
      const h1 = new Map(holds.get('c0'))
      for (const c of c1)
        if ('remove' in c) h1.delete(c.userId)
        else h1.set(c.userId, c.balances)
      holds.set('c1', h1)
      await check('c1')
      expect((await get('/v1/snapshots/c1')).json().base).toBe('c0')
      // c0 is untouched; the removed are gone from c1 only; the unchanged keep leaf and salt
      await check('c0')
      expect((await get('/v1/snapshots/c1/proofs/u10')).statusCode).toBe(404)
      for (const u of ['u5', 'u0', 'u39']) {
        const p = await proofOf('c1', u)
        expect({ leafIndex: p.leafIndex, salt: p.salt }).toEqual({
          leafIndex: before.get(u)!.leafIndex,
          salt: before.get(u)!.salt,
        })
      }

      // c2 from c1: a removed user comes back (a new row, a new leaf), others change
      const c2: Change[] = [
        { userId: 'u10', balances: bal(9, 9) },
        { userId: 'new1', remove: true },
        { userId: 'u20', balances: bal(0, 0) },
      ]
      expect((await next('c1', 'c2', c2)).statusCode).toBe(202)
      await svc.idle()
      const h2 = new Map(h1)
      h2.set('u10', bal(9, 9))
      h2.delete('new1')
      h2.set('u20', bal(0, 0))
      holds.set('c2', h2)
      await check('c2')
      await check('c1')
      expect((await proofOf('c2', 'u10')).salt).not.toBe(before.get('u10')!.salt)
    },
  )

  it.skipIf(skip)(
    'refuses a base that is not the tip, bad changes; a failed build takes back its rows',
    { timeout: 120_000 },
    async () => {
      const fork = await next('c0', 'fork', [{ userId: 'u1', balances: bal(1, 1) }])
      expect(fork.statusCode, fork.body).toBe(409)
      expect(fork.json()).toMatchObject({ code: 'RESERVES_SNAPSHOT_EXISTS' })
      for (const [changes, code] of [
        [[], 'RESERVES_BAD_OPTIONS'],
        [[{ userId: 'u1', balances: { BTC: '1' } }], 'RESERVES_INPUT_INVALID'],
        [[{ userId: 'u1' }], 'RESERVES_INPUT_INVALID'],
        [[{ userId: 'u1', remove: false }], 'RESERVES_INPUT_INVALID'],
        [[{ userId: 'u1', remove: true, balances: bal(1, 1) }], 'RESERVES_INPUT_INVALID'],
        [['u1'], 'RESERVES_INPUT_INVALID'],
        [[{ userId: 'u1', balances: { BTC: '1', ETH: '-2' } }], 'RESERVES_INPUT_INVALID'],
        [[{ userId: 'u1', balances: { BTC: '1', ETH: '2', DOGE: '1' } }], 'RESERVES_INPUT_INVALID'],
        [
          [
            { userId: 'u1', remove: true },
            { userId: 'u1', balances: bal(1, 1) },
          ],
          'RESERVES_INPUT_INVALID',
        ],
      ] as [Change[], string][]) {
        const r = await next('c2', 'bad', changes)
        expect(r.statusCode, JSON.stringify(changes)).toBe(400)
        expect(r.json().code).toBe(code)
      }
      expect((await next('nope', 'x', [{ userId: 'a', remove: true }])).statusCode).toBe(404)
      // removing a user the base does not hold fails the build; its rows (a new user's) are taken back
      const r = await next('c2', 'c3', [
        { userId: 'brand-new', balances: bal(1, 1) },
        { userId: 'ghost', remove: true },
      ])
      expect(r.statusCode).toBe(202)
      await svc.idle()
      const failed = (await get('/v1/snapshots/c3')).json()
      expect(failed.status).toBe('failed')
      expect(failed.error).toMatch(/ghost is not in the base/)
      const left = await db.sql.query(
        `SELECT count(*)::int AS n FROM reserves_users WHERE snapshot_id = 'c0' AND added_in = 3`,
      )
      expect(left[0]!.n).toBe(0)
      // the chain still grows from c2 (the failed id may be used again)
      expect((await next('c2', 'c3', [{ userId: 'u30', balances: bal(3, 3) }])).statusCode).toBe(202)
      await svc.idle()
      holds.set('c3', new Map(holds.get('c2')).set('u30', bal(3, 3)))
      await check('c3')
    },
  )

  it.skipIf(skip)(
    'erasing a user reaches every snapshot of the chain; the chain then grows in full only',
    { timeout: 60_000 },
    async () => {
      const r = await svc.app.inject({ method: 'POST', url: '/v1/users/u5/erase', headers: admin })
      expect(r.statusCode, r.body).toBe(200)
      expect(r.json().snapshots.sort()).toEqual(['c0', 'c1', 'c2', 'c3'])
      for (const id of ['c0', 'c1', 'c2', 'c3']) {
        const gone = await get(`/v1/snapshots/${id}/proofs/u5`)
        expect(gone.statusCode).toBe(404)
        expect(gone.json().message).toContain('was erased on')
        expect(await svc.store.hasUser(id, 'u5')).toBe(false)
        // the others still prove what they hold against the unchanged root
        const root = (await get(`/v1/snapshots/${id}`)).json().root.hash
        expect(verifyProof(await proofOf(id, 'u6'), { expectedRoot: root }).ok).toBe(true)
      }
      const refused = await next('c3', 'c4', [{ userId: 'u6', balances: bal(1, 1) }])
      expect(refused.statusCode).toBe(400)
      expect(refused.json().hint).toMatch(/in full/)
    },
  )

  it.skipIf(skip)(
    'retention keeps a chain’s rows until its last served snapshot goes',
    { timeout: 60_000 },
    async () => {
      const count = async (q: string) => Number((await db.sql.query(q))[0]!.n)
      const users = `SELECT count(*)::int AS n FROM reserves_users WHERE snapshot_id = 'c0'`
      const nodes = `SELECT count(*)::int AS n FROM reserves_nodes WHERE lineage = 'c0'`
      const had = [await count(users), await count(nodes)]
      expect(had[1]).toBeGreaterThan(0)
      // the older three retired (as retention marks them), their rows asked to go: c3 still needs them
      await db.sql.query(`UPDATE reserves_snapshots SET status = 'archived' WHERE id IN ('c0', 'c1', 'c2')`)
      for (const id of ['c0', 'c1', 'c2']) await svc.store.retireRows(id)
      expect([await count(users), await count(nodes)]).toEqual(had)
      const root = (await get('/v1/snapshots/c3')).json().root.hash
      expect(verifyProof(await proofOf('c3', 'u30'), { expectedRoot: root }).ok).toBe(true)
      // the last one retired: the chain's rows go
      await db.sql.query(`UPDATE reserves_snapshots SET status = 'archived' WHERE id = 'c3'`)
      await svc.store.retireRows('c3')
      expect([await count(users), await count(nodes)]).toEqual([0, 0])
      expect(await count(`SELECT count(*)::int AS n FROM reserves_levels WHERE snapshot_id = 'c0'`)).toBe(0)
    },
  )
})
