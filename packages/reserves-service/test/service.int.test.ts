import { createRequire } from 'node:module'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { DEFAULT_COMPLIANCE } from '../src/features/compliance/options.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { verifyAuditChain } from '../src/kernel/audit.ts'
import { signToken } from '../src/kernel/auth.ts'
import { migrate } from '../src/schema.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

interface Ws {
  on(e: 'message', f: (d: Buffer) => void): void
  once(e: 'open' | 'close', f: () => void): void
  close(): void
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string) => Ws

/** Connects and collects every message. */
async function listen(url: string): Promise<{ messages: Record<string, unknown>[]; ws: Ws }> {
  const ws = new WebSocket(url)
  const messages: Record<string, unknown>[] = []
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())))
  await new Promise<void>((r) => ws.once('open', r))
  return { messages, ws }
}

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const secret = new TextEncoder().encode('test-secret-test-secret-test-secret')
const key = parseKeyFile('ab'.repeat(32))
const token = (role: 'admin' | 'auditor' | 'user', sub: string) => signToken(secret, { sub, role, ttlSeconds: 600 })
const admin = { authorization: `Bearer ${token('admin', 'ops')}` }
const auditor = { authorization: `Bearer ${token('auditor', 'kpmg')}` }
const alice = { authorization: `Bearer ${token('user', 'alice')}` }

const CSV = 'userId,BTC,ETH\nalice,150000000,0\nbob,1,2000000000000000000\ncarol,0,5\n'

const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the PostgreSQL service tests: 127.0.0.1:5432 is unreachable (${pgDown})`)

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`reserves service on ${driver}`, () => {
    let db: OpenedSql
    let svc: ReservesService
    beforeAll(async () => {
      db = await openTestSql(driver)
      svc = createReservesService(
        {
          ...DEFAULT_SERVICE_OPTIONS,
          // these tests read per-user proofs as an auditor: the grant serve leaves off by default
          compliance: { ...DEFAULT_COMPLIANCE, auditorProofReaders: 'all' },
          jwtSecret: secret,
          defaultMinDepth: 4,
          apiKeys: [{ name: 'exporter', role: 'admin', key: 'k-123' }],
        },
        { sql: db.sql, key, logger: silentLogger },
      )
    })
    afterAll(async () => {
      await svc?.close()
      await db?.close()
    })

    const inject = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      headers: Record<string, string>,
      payload?: string | object,
    ) => svc.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) })

    async function submit(body: string, query = 'id=s1') {
      const r = await inject('POST', `/v1/snapshots?${query}`, { ...admin, 'content-type': 'text/csv' }, body)
      await svc.idle()
      return r
    }

    it('migrations are idempotent', async () => {
      expect(await migrate(db.sql)).toEqual([])
    })

    it('builds a CSV snapshot in the background and serves verifying proofs', async () => {
      const r = await submit(CSV, 'id=s1&currencies=BTC:8,ETH:18')
      expect(r.statusCode).toBe(202)
      expect(r.json()).toEqual({ id: 's1', status: 'building' })
      const s = (await inject('GET', '/v1/snapshots/s1', auditor)).json()
      expect(s.status).toBe('built')
      expect(s.depth).toBe(4)
      expect(s.currencies).toEqual([
        { symbol: 'BTC', decimals: 8 },
        { symbol: 'ETH', decimals: 18 },
      ])
      expect(s.root.balances).toEqual(['150000001', '2000000000000000005'])
      const p = await inject('GET', '/v1/snapshots/s1/proof', alice)
      expect(p.statusCode).toBe(200)
      const proof = p.json()
      expect(proof.userId).toBe('alice')
      expect(proof.balances).toEqual({ BTC: '150000000', ETH: '0' })
      expect(verifyProof(proof, { expectedRoot: s.root.hash }).ok).toBe(true)
    })

    it('accepts JSON snapshots and API keys', async () => {
      const r = await inject(
        'POST',
        '/v1/snapshots',
        { 'x-api-key': 'k-123' },
        {
          id: 'j1',
          hash: 'keccak256',
          minDepth: 2,
          currencies: [{ symbol: 'USDT', decimals: 6 }],
          entries: [
            { userId: 'alice', balances: { USDT: '10' } },
            { userId: 'dan', balances: { USDT: 3 } },
          ],
        },
      )
      expect(r.statusCode).toBe(202)
      await svc.idle()
      const proof = (await inject('GET', '/v1/snapshots/j1/proof', alice)).json()
      expect(proof.hash).toBe('keccak256')
      expect(verifyProof(proof).ok).toBe(true)
      expect(proof.root.balances).toEqual(['13'])
    })

    it('enforces roles', async () => {
      expect((await inject('GET', '/v1/snapshots/s1', {})).statusCode).toBe(401)
      expect((await inject('GET', '/v1/snapshots/s1', { authorization: 'Bearer x.y.z' })).statusCode).toBe(401)
      expect((await inject('GET', '/v1/snapshots/s1', { 'x-api-key': 'nope' })).statusCode).toBe(401)
      const expired = signToken(secret, { sub: 'a', role: 'admin', ttlSeconds: 1 }, Date.now() - 10_000)
      expect((await inject('GET', '/v1/snapshots/s1', { authorization: `Bearer ${expired}` })).statusCode).toBe(401)
      expect((await inject('POST', '/v1/snapshots', { ...alice, 'content-type': 'text/csv' }, CSV)).statusCode).toBe(
        403,
      )
      expect((await inject('POST', '/v1/snapshots', { ...auditor, 'content-type': 'text/csv' }, CSV)).statusCode).toBe(
        403,
      )
      // a user sees only their own proof
      expect((await inject('GET', '/v1/snapshots/s1/proofs/bob', alice)).statusCode).toBe(403)
      expect((await inject('GET', '/v1/snapshots/s1/leaves', alice)).statusCode).toBe(403)
      expect((await inject('GET', '/v1/audit', alice)).statusCode).toBe(403)
      // staff read any proof; a user not in the snapshot gets 404
      expect((await inject('GET', '/v1/snapshots/s1/proofs/bob', auditor)).json().userId).toBe('bob')
      const nobody = { authorization: `Bearer ${token('user', 'mallory')}` }
      expect((await inject('GET', '/v1/snapshots/s1/proof', nobody)).statusCode).toBe(404)
      expect((await inject('GET', '/v1/snapshots/nope', auditor)).statusCode).toBe(404)
    })

    it('a refused snapshot stores nothing and lists every bad row', async () => {
      const before = await db.sql.query('SELECT count(*)::int AS n FROM reserves_snapshots')
      const r = await submit('userId,BTC\nok,1\nneg,-5\n,3\nok,2\n', 'id=bad1')
      expect(r.statusCode).toBe(400)
      const body = r.json()
      expect(body.code).toBe('RESERVES_INPUT_INVALID')
      expect(body.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5])
      const over = await submit(`userId,BTC\na,${(1n << 127n).toString()}\nb,${(1n << 127n).toString()}\n`, 'id=bad2')
      expect(over.statusCode).toBe(400)
      expect(over.json().code).toBe('RESERVES_OVERFLOW')
      const after = await db.sql.query('SELECT count(*)::int AS n FROM reserves_snapshots')
      expect(after[0]!.n).toBe(before[0]!.n)
      expect((await inject('GET', '/v1/snapshots/bad1', admin)).statusCode).toBe(404)
    })

    it('stores user ids and salts encrypted, and leaves without ids', async () => {
      const rows = await db.sql.query(
        'SELECT user_id_enc, salt_enc, key_id FROM reserves_users WHERE snapshot_id = $1',
        ['s1'],
      )
      expect(rows).toHaveLength(3)
      for (const r of rows) {
        expect(Buffer.from(r.user_id_enc as Uint8Array).includes(Buffer.from('alice'))).toBe(false)
        expect(r.key_id).toBe(key.id)
      }
      expect((await svc.store.userIds('s1')).sort()).toEqual(['alice', 'bob', 'carol'])
      const leaves = (await inject('GET', '/v1/snapshots/s1/leaves?offset=0&limit=100', auditor)).json()
      expect(leaves.total).toBe(16)
      expect(leaves.leaves).toHaveLength(16)
      expect(JSON.stringify(leaves)).not.toContain('alice')
      const sums = [0n, 0n]
      for (const l of leaves.leaves) for (const [i, b] of (l.balances as string[]).entries()) sums[i]! += BigInt(b)
      expect(sums.map(String)).toEqual(['150000001', '2000000000000000005'])
    })

    it('ETags: 304 on a matching If-None-Match, immutable caching', async () => {
      const r = await inject('GET', '/v1/snapshots/s1/proof', alice)
      expect(r.headers['cache-control']).toContain('immutable')
      const etag = r.headers.etag as string
      expect(etag).toMatch(/^"/)
      const again = await inject('GET', '/v1/snapshots/s1/proof', { ...alice, 'if-none-match': etag })
      expect(again.statusCode).toBe(304)
      const snap = await inject('GET', '/v1/snapshots/s1', auditor)
      expect(snap.headers['cache-control']).toBe('no-cache') // an anchor may still be added
      const same = await inject('GET', '/v1/snapshots/s1', { ...auditor, 'if-none-match': snap.headers.etag as string })
      expect(same.statusCode).toBe(304)
    })

    it('batch proofs for staff, cursor pagination', async () => {
      const r = await inject('POST', '/v1/snapshots/s1/proofs/batch', auditor, { userIds: ['alice', 'bob', 'zed'] })
      expect(r.statusCode).toBe(200)
      const body = r.json()
      expect(body.proofs).toHaveLength(2)
      expect(body.missing).toEqual(['zed'])
      const tooMany = await inject('POST', '/v1/snapshots/s1/proofs/batch', auditor, {
        userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`),
      })
      expect(tooMany.statusCode).toBe(400)
      const page1 = (await inject('GET', '/v1/snapshots?limit=1', auditor)).json()
      expect(page1.items).toHaveLength(1)
      expect(page1.items[0].id).toBe('j1')
      const page2 = (await inject('GET', `/v1/snapshots?limit=1&cursor=${page1.next}`, auditor)).json()
      expect(page2.items[0].id).toBe('s1')
      expect(page2.next).toBeNull()
    })

    it('the audit log records sensitive actions and detects edits and deletions', async () => {
      const log = (await inject('GET', '/v1/audit?limit=1000', auditor)).json().entries
      const actions = log.map((e: { action: string }) => e.action)
      expect(actions).toContain('snapshot.created')
      expect(actions).toContain('snapshot.built')
      expect(actions).toContain('proof.read')
      expect((await inject('GET', '/v1/audit/verify', auditor)).json().ok).toBe(true)
      expect(verifyAuditChain(log).ok).toBe(true)
      // edit a row
      await db.sql.query(`UPDATE reserves_audit SET actor = 'someone-else' WHERE seq = 2`)
      const edited = (await inject('GET', '/v1/audit/verify', admin)).json()
      expect(edited).toMatchObject({ ok: false, seq: 2 })
      expect(edited.reason).toMatch(/edited/)
      // delete a row (after restoring the edit through the recorded log)
      await db.sql.query(`UPDATE reserves_audit SET actor = $1 WHERE seq = 2`, [log[1].actor])
      await db.sql.query('DELETE FROM reserves_audit WHERE seq = 3')
      const deleted = (await inject('GET', '/v1/audit/verify', admin)).json()
      expect(deleted).toMatchObject({ ok: false, seq: 3 })
      expect(deleted.reason).toMatch(/missing/)
    })

    it('WebSocket /v1/stream: built and anchored events, and proof.available only to users in the snapshot', async () => {
      const base = (await svc.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws')
      const erin = await listen(`${base}/v1/stream?token=${token('user', 'erin')}`)
      const zack = await listen(`${base}/v1/stream?token=${token('user', 'zack')}`)
      const staff = await listen(`${base}/v1/stream?token=${token('auditor', 'kpmg')}`)
      const anon = await listen(`${base}/v1/stream`)
      await until(() => anon.messages.length > 0 && staff.messages.length > 0, 'hello')
      expect(anon.messages[0]).toMatchObject({ type: 'error', code: 'RESERVES_UNAUTHENTICATED' })
      expect(staff.messages[0]).toMatchObject({ type: 'hello', role: 'auditor' })
      expect((await submit('userId,BTC\nerin,4\nfay,1\n', 'id=ws1')).statusCode).toBe(202)
      await until(() => erin.messages.some((m) => m.type === 'proof.available'), 'proof.available')
      await until(() => zack.messages.some((m) => m.type === 'snapshot.built'), 'snapshot.built for zack')
      expect(zack.messages.some((m) => m.type === 'proof.available')).toBe(false)
      const anchor = { chainId: 1337, txHash: `0x${'ab'.repeat(32)}`, blockNumber: 7 }
      expect((await inject('PUT', '/v1/snapshots/ws1/anchor', admin, anchor)).json().anchor).toEqual(anchor)
      expect((await inject('PUT', '/v1/snapshots/ws1/anchor', auditor, anchor)).statusCode).toBe(403)
      await until(() => staff.messages.some((m) => m.type === 'snapshot.anchored'), 'snapshot.anchored')
      for (const c of [erin, zack, staff, anon]) c.ws.close()
    })

    it('serves the OpenAPI document and the page with its verifier bundle', async () => {
      expect((await inject('GET', '/docs', {})).json().openapi).toBe('3.1.0')
      expect((await inject('GET', '/', {})).body).toContain('Check your proof')
      const js = await inject('GET', '/verifier.js', {})
      expect(js.headers['content-type']).toContain('javascript')
      expect(js.body).toContain('verifyProof')
    })
  })
}
