// The retention policy on the real service (PGlite) with an injected clock: snapshots archived
// (leaves + manifest that fold back to the root) or protected (newest, newest anchored, open
// reconciliation), audit entries pruned behind a checkpoint so /v1/audit/verify still passes, the
// archive + live log forming the whole chain; and the policy's validation.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeBalances, fromHex, portableHash } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { complianceOptions } from '../src/cli/serve-compliance-flags.ts'
import { foldLeaves } from '../src/features/compliance/archive.ts'
import { verifyCheckpointedChain } from '../src/features/compliance/audit-checkpoint.ts'
import {
  checkRetention,
  DEFAULT_COMPLIANCE,
  DEFAULT_RETENTION,
  type RetentionOptions,
} from '../src/features/compliance/options.ts'
import { DEFAULT_RECONCILIATION } from '../src/features/reconciliation/worker.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { type AuditEntry, verifyAuditChain } from '../src/kernel/audit.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('retention-test-secret-retention!!')
const key = parseKeyFile('3e'.repeat(32))
const DAY = 86_400_000
const CSV = 'userId,BTC\nalice-7f3a,150000000\nbob-19c2,1\ncarol-88d0,5\n'

describe('reserves retention', () => {
  let db: OpenedSql
  let svc: ReservesService
  let dir: string
  let now = Date.now()
  const clockMs = () => now
  const as = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
    authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 }, now)}`,
  })
  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    headers: Record<string, string>,
    payload?: object,
  ) => {
    const r = await svc.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
    return {
      status: r.statusCode,
      body: String(r.headers['content-type']).startsWith('application/json') ? r.json() : r.body,
    }
  }
  const run = async () => {
    const r = await call('POST', '/v1/compliance/retention/run', as('admin', 'ops'))
    expect(r.status).toBe(200)
    return r.body
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-retention-'))
    db = await openTestSql('pglite')
    const retention: RetentionOptions = {
      ...DEFAULT_RETENTION,
      run: false, // runs on request here; the interval is the same code
      snapshots: { keep: 1, maxAgeDays: null },
      audit: { keep: null, maxAgeDays: 30 },
      mode: 'archive',
      archiveDir: dir,
    }
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        defaultMinDepth: 3,
        compliance: { ...DEFAULT_COMPLIANCE, retention },
        reconciliation: { ...DEFAULT_RECONCILIATION, run: false },
      },
      { sql: db.sql, key, logger: silentLogger, clockMs },
    )
    for (const id of ['r1', 'r2', 'r3', 'r4']) {
      const r = await svc.app.inject({
        method: 'POST',
        url: `/v1/snapshots?id=${id}&currencies=BTC:8`,
        headers: { ...as('admin', 'ops'), 'content-type': 'text/csv' },
        payload: CSV,
      })
      expect(r.statusCode).toBe(202)
      await svc.idle()
    }
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
    await db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('archives what the policy no longer keeps, never the newest, the newest anchored, or one being reconciled', async () => {
    const anchor = { chainId: 1337, txHash: `0x${'ab'.repeat(32)}`, blockNumber: 7 }
    expect((await call('PUT', '/v1/snapshots/r1/anchor', as('admin', 'ops'), anchor)).status).toBe(200)
    await svc.reconciliation.runs.enqueue('r2', 'manual', null) // queued: no worker runs here
    const r3 = (await call('GET', '/v1/snapshots/r3', as('admin', 'ops'))).body
    const own = as('user', 'alice-7f3a')
    expect((await call('GET', '/v1/snapshots/r3/proof', own)).status).toBe(200) // cached now

    const first = await run()
    expect(first.retired).toEqual([{ id: 'r3', status: 'archived', manifest: 'snapshots/r3.manifest.json' }])
    expect(first.kept).toEqual([
      { id: 'r2', reason: 'a reconciliation of it is queued or running' },
      { id: 'r1', reason: 'the newest anchored snapshot' },
    ])
    // the row stays with its root; its users and tree are gone, and so are its proofs (even cached)
    const after = (await call('GET', '/v1/snapshots/r3', as('auditor', 'kpmg'))).body
    expect(after).toMatchObject({ status: 'archived', root: r3.root })
    expect(await db.sql.query(`SELECT 1 AS x FROM reserves_users WHERE snapshot_id = 'r3'`)).toEqual([])
    expect(await db.sql.query(`SELECT 1 AS x FROM reserves_levels WHERE snapshot_id = 'r3'`)).toEqual([])
    const gone = await call('GET', '/v1/snapshots/r3/proof', own)
    expect(gone.status).toBe(409)
    expect(gone.body.message).toContain('was archived by the retention policy')
    // its id is not free again
    const again = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=r3&currencies=BTC:8',
      headers: { ...as('admin', 'ops'), 'content-type': 'text/csv' },
      payload: CSV,
    })
    expect(again.statusCode).toBe(409)

    // the archive: leaves that fold back to the root, their digest in the manifest, no user ids
    const manifest = JSON.parse(readFileSync(join(dir, 'snapshots/r3.manifest.json'), 'utf8'))
    const leavesText = readFileSync(join(dir, 'snapshots/r3.leaves.jsonl'), 'utf8')
    expect(manifest).toMatchObject({ recomputedRoot: r3.root.hash, leaves: { count: 8 }, snapshot: { id: 'r3' } })
    expect(createHash('sha256').update(leavesText).digest('hex')).toBe(manifest.leaves.sha256)
    const leaves = leavesText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { hash: string; balances: string[] })
    const folded = foldLeaves(
      portableHash('sha256'),
      leaves.map((l) => ({
        hash: fromHex(l.hash, 32) as Uint8Array,
        balances: encodeBalances(l.balances.map(BigInt)),
      })),
    )
    expect(folded).toBe(r3.root.hash)
    expect(leavesText + JSON.stringify(manifest)).not.toMatch(/alice|bob|carol|salt/)

    // the reconciliation ends: r2 is retired at the next run; r1 (anchored) and r4 (newest) stay
    await db.sql.query(`UPDATE reserves_reconciliations SET state = 'failed' WHERE snapshot_id = 'r2'`)
    const second = await run()
    expect(second.retired.map((r: { id: string }) => r.id)).toEqual(['r2'])
    expect(second.kept).toEqual([{ id: 'r1', reason: 'the newest anchored snapshot' }])
    const statuses = await db.sql.query('SELECT id, status FROM reserves_snapshots ORDER BY seq')
    expect(statuses.map((s) => `${s.id}:${s.status}`)).toEqual(['r1:built', 'r2:archived', 'r3:archived', 'r4:built'])

    const audit = (await call('GET', '/v1/audit?limit=1000', as('admin', 'ops'))).body.entries as AuditEntry[]
    const retired = audit.filter((e) => e.action === 'snapshot.retired')
    expect(retired.map((e) => [e.details.id, e.details.status, e.actor])).toEqual([
      ['r3', 'archived', 'ops'],
      ['r2', 'archived', 'ops'],
    ])
    expect((await call('GET', '/v1/audit/verify', as('auditor', 'kpmg'))).body).toMatchObject({
      ok: true,
      prunedThrough: 0,
    })
    const metrics = (await call('GET', '/metrics', {})).body as string
    expect(metrics).toContain('cairn_reserves_retention_removed_total{kind="snapshot"} 2')
    expect(metrics).toContain('cairn_reserves_retention_removed_total{kind="audit_entry"} 0')
  })

  it('prunes audit entries behind a checkpoint: the chain still verifies, and archive + log is the whole chain', async () => {
    const whole = (await db.sql.query('SELECT count(*)::int AS n FROM reserves_audit'))[0]!.n as number
    now += 31 * DAY // every entry so far is older than 30 days
    await call('GET', '/v1/snapshots/r4/proofs/bob-19c2', as('admin', 'ops')) // a fresh entry (at = the real time, now old too)
    const r = await run()
    // every entry is old, but the newest is never pruned: the log keeps its head
    expect(r.audit).toMatchObject({ count: whole, through: whole })
    const check = (await call('GET', '/v1/audit/verify', as('auditor', 'kpmg'))).body
    expect(check).toMatchObject({ ok: true, prunedThrough: whole, count: 2 })
    const live = (await call('GET', '/v1/audit', as('admin', 'ops'))).body.entries as AuditEntry[]
    expect(live.map((e) => e.action)).toEqual(['proof.read', 'audit.pruned'])
    expect(live[1]!.details).toMatchObject({
      through: whole,
      from: 1,
      count: whole,
      archive: `audit/audit-1-${whole}.jsonl`,
    })
    // the archived entries and the live log together verify from the genesis
    const archived = readFileSync(join(dir, 'audit', readdirSync(join(dir, 'audit'))[0]!), 'utf8')
    expect(createHash('sha256').update(archived).digest('hex')).toBe(live[1]!.details.sha256)
    const entries = archived
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry)
    expect(verifyAuditChain([...entries, ...live])).toMatchObject({ ok: true, count: whole + 2 })

    // a second pruning covers the first checkpoint; deleting an entry without one is caught
    await call('GET', '/v1/snapshots/r4/proofs/bob-19c2', as('admin', 'ops'))
    now += 31 * DAY
    const r2 = await run()
    expect(r2.audit).toMatchObject({ count: 2, through: whole + 2 })
    expect((await call('GET', '/v1/audit/verify', as('admin', 'ops'))).body).toMatchObject({
      ok: true,
      prunedThrough: whole + 2,
    })
    await call('GET', '/v1/snapshots/r4/proofs/bob-19c2', as('admin', 'ops'))
    const rows = await db.sql.query('SELECT seq FROM reserves_audit ORDER BY seq')
    await db.sql.query('DELETE FROM reserves_audit WHERE seq = $1', [rows[0]!.seq])
    const broken = (await call('GET', '/v1/audit/verify', as('admin', 'ops'))).body
    expect(broken).toMatchObject({ ok: false })
    expect(broken.reason).toContain('no audit.pruned checkpoint accounts for them')
    const metrics = (await call('GET', '/metrics', {})).body as string
    expect(metrics).toContain(`cairn_reserves_retention_removed_total{kind="audit_entry"} ${whole + 2}`)
  })

  it('checks a checkpoint names exactly the pruned prefix', () => {
    const e = (seq: number, action: string, details: Record<string, unknown>, prevHash: string): AuditEntry => {
      const base = { seq, at: '2026-01-01T00:00:00.000Z', actor: 'a', role: 'admin', action, details, prevHash }
      return { ...base, hash: `0x${createHash('sha256').update(JSON.stringify(base)).digest('hex')}` }
    }
    // a hand-made chain fails on its hashes; what matters here is the prefix claim, checked first
    const lying = [e(5, 'x', {}, '0xaa'), e(6, 'audit.pruned', { through: 3, head: '0xaa' }, '0xbb')]
    expect(verifyCheckpointedChain(lying)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('entries 1…4 are missing'),
    })
  })

  it('refuses an unusable policy with the flag at fault', () => {
    const base: RetentionOptions = { ...DEFAULT_RETENTION, snapshots: { keep: 3, maxAgeDays: null }, archiveDir: dir }
    expect(() => checkRetention({ ...base, snapshots: { keep: 0, maxAgeDays: null } })).toThrow(
      /--retain-snapshots must be a whole number ≥ 1/,
    )
    expect(() => checkRetention({ ...base, audit: { keep: null, maxAgeDays: -1 } })).toThrow(
      /--retain-audit-days must be a number of days > 0/,
    )
    expect(() => checkRetention({ ...base, archiveDir: null })).toThrow(/needs --retention-archive-dir/)
    expect(() => checkRetention({ ...base, intervalMs: 10 })).toThrow(/--retention-interval must be at least 1/)
    expect(() => checkRetention({ ...base, snapshots: { keep: null, maxAgeDays: null } })).toThrow(/needs a limit/)
    const flags = {
      datadir: '/var/lib/cairn',
      retentionMode: 'archive',
      retentionInterval: '600',
      retention: true,
      auditorProofReaders: 'forensics, ',
    }
    expect(complianceOptions(flags)).toMatchObject({
      retention: null,
      reportKey: null,
      auditorProofReaders: ['forensics'],
    })
    expect(complianceOptions({ ...flags, retainSnapshots: '12', retainAuditDays: '365' }).retention).toEqual({
      ...DEFAULT_RETENTION,
      snapshots: { keep: 12, maxAgeDays: null },
      audit: { keep: null, maxAgeDays: 365 },
      archiveDir: '/var/lib/cairn/archive',
      intervalMs: 600_000,
    })
    expect(() => complianceOptions({ ...flags, retainSnapshots: 'ten' })).toThrow(
      /--retain-snapshots must be a whole number, not "ten"/,
    )
    expect(() => complianceOptions({ ...flags, retainDays: '7', retentionMode: 'shred' })).toThrow(
      /--retention-mode is archive or delete, not shred/,
    )
    expect(() => complianceOptions({ ...flags, reportKeyFile: join(dir, 'bad.key') }, 'not a key')).toThrow(
      /--report-key-file .*bad\.key is neither a PEM private key nor 64 hex characters/,
    )
  })
})
