// Compliance on the real service (PGlite, and PostgreSQL when it answers): GDPR export and
// erasure with the published roots and every other proof intact, per-snapshot salted identifiers,
// an auditor who verifies without per-user balances, and the signed auditor report (JSON, CSV,
// PDF) fetched by the CLI's client and verified.

import type { ProofV1 } from '@cairn/reserves/verifier'
import { encodeBalances, fromHex, leafHash, portableHash, userHash, verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { PDFDocument } from 'pdf-lib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { checkReport, fetchReport, readReportFile } from '../src/cli/report.ts'
import { DEFAULT_COMPLIANCE } from '../src/features/compliance/options.ts'
import { canonicalJson, type SnapshotReport, verifyReport } from '../src/features/compliance/report.ts'
import { parseReportKey } from '../src/features/compliance/report-key.ts'
import { parseKeyFile, userKey } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('compliance-test-secret-compliance!')
const key = parseKeyFile('5a'.repeat(32))
const reportKey = parseReportKey('7c'.repeat(32), 'test key')
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const admin = bearer('admin', 'ops')
const kpmg = bearer('auditor', 'kpmg') // not granted per-user proofs
const granted = bearer('auditor', 'forensics') // granted
const USERS = ['alice-7f3a', 'bob-19c2', 'carol-88d0', 'dave-0b1e', 'erin-55aa', 'frank-c3d4']
const CSV = `userId,BTC,ETH\n${USERS.map((u, i) => `${u},${(i + 1) * 100_000},${i * 7}`).join('\n')}\n`

const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the PostgreSQL compliance tests: 127.0.0.1:5432 is unreachable (${pgDown})`)

for (const driver of ['pglite', 'pg'] as const) {
  describe.skipIf(driver === 'pg' && pgDown !== null)(`reserves compliance on ${driver}`, () => {
    let db: OpenedSql
    let svc: ReservesService
    const call = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) => {
      const r = await svc.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
      return {
        status: r.statusCode,
        body: String(r.headers['content-type']).startsWith('application/json') ? r.json() : r.body,
        raw: r,
      }
    }
    const upload = async (id: string) => {
      const r = await svc.app.inject({
        method: 'POST',
        url: `/v1/snapshots?id=${id}&currencies=BTC:8,ETH:18`,
        headers: { ...admin, 'content-type': 'text/csv' },
        payload: CSV,
      })
      expect(r.statusCode).toBe(202)
      await svc.idle()
    }
    const proofOf = async (id: string, u: string) =>
      (await call('GET', `/v1/snapshots/${id}/proofs/${u}`, admin)).body as ProofV1

    beforeAll(async () => {
      db = await openTestSql(driver)
      svc = createReservesService(
        {
          ...DEFAULT_SERVICE_OPTIONS,
          jwtSecret: secret,
          defaultMinDepth: 4,
          compliance: { ...DEFAULT_COMPLIANCE, reportKey, auditorProofReaders: ['forensics'] },
        },
        { sql: db.sql, key, logger: silentLogger },
      )
      await upload('c1')
      await upload('c2')
    }, 120_000)
    afterAll(async () => {
      await svc?.close()
      await db?.close()
    })

    it("salts identifiers per snapshot: one user's leaves and lookup keys share nothing across snapshots", async () => {
      const [a1, a2] = [await proofOf('c1', 'alice-7f3a'), await proofOf('c2', 'alice-7f3a')]
      expect(a1.balances).toEqual(a2.balances) // same user, same balances…
      expect(a1.salt).not.toBe(a2.salt) // …fresh salt per snapshot
      const h = portableHash('sha256')
      const leaf = (salt: string, p: ProofV1) =>
        leafHash(
          h,
          userHash(h, fromHex(salt, 32) as Uint8Array, p.userId),
          encodeBalances(p.currencies.map((c) => BigInt(p.balances[c.symbol] as string))),
        )
      const l1 = Buffer.from(leaf(a1.salt, a1)).toString('hex')
      const l2 = Buffer.from(leaf(a2.salt, a2)).toString('hex')
      expect(l1).not.toBe(l2) // the leaf hashes differ
      // with the id and the balances but c1's salt, c2's leaf is not found: the salt is what links them
      expect(Buffer.from(leaf(a1.salt, a2)).toString('hex')).not.toBe(l2)
      // the users table's lookup keys differ too, and hold no id in clear
      expect(Buffer.from(userKey(key, 'c1', 'alice-7f3a')).equals(Buffer.from(userKey(key, 'c2', 'alice-7f3a')))).toBe(
        false,
      )
      const rows = await db.sql.query('SELECT * FROM reserves_users')
      expect(JSON.stringify(rows)).not.toContain('alice')
    })

    it('an auditor verifies (snapshot, leaves, report, audit chain) without per-user proofs unless granted', async () => {
      expect((await call('GET', '/v1/snapshots/c1', kpmg)).body.root.hash).toMatch(/^0x/)
      const leaves = await call('GET', '/v1/snapshots/c1/leaves?limit=100', kpmg)
      expect(leaves.status).toBe(200)
      expect(JSON.stringify(leaves.body)).not.toMatch(/alice|bob|userId|salt/)
      expect((await call('GET', '/v1/audit/verify', kpmg)).body.ok).toBe(true)
      const denied = await call('GET', '/v1/snapshots/c1/proofs/bob-19c2', kpmg)
      expect(denied.status).toBe(403)
      expect(denied.body.message).toContain('may not read per-user proofs')
      expect(denied.body.hint).toContain('/report')
      expect((await call('POST', '/v1/snapshots/c1/proofs/batch', kpmg, { userIds: ['bob-19c2'] })).status).toBe(403)
      expect((await call('GET', '/v1/snapshots/c1/proofs/bob-19c2', granted)).status).toBe(200)
      const report = await call('GET', '/v1/snapshots/c1/report?samples=4&seed=s1', kpmg)
      expect(report.status).toBe(200)
      const text = JSON.stringify(report.body)
      for (const u of USERS) expect(text).not.toContain(u)
      for (const p of (report.body as SnapshotReport).samples.proofs)
        expect(Object.keys(p).sort()).toEqual(['leafHash', 'leafIndex', 'ok', 'ref'])
      // users and unknown callers get no report, nor the export
      expect((await call('GET', '/v1/snapshots/c1/report', bearer('user', 'alice-7f3a'))).status).toBe(403)
      expect((await call('GET', '/v1/users/alice-7f3a/export', kpmg)).status).toBe(403)
    })

    it('the signed report: sampled proofs verified, same seed same sample, signature checks; CSV and PDF carry the same facts', async () => {
      const r1 = (await call('GET', '/v1/snapshots/c1/report?samples=4&seed=abc', admin)).body as SnapshotReport
      const r2 = (await call('GET', '/v1/snapshots/c1/report?samples=4&seed=abc', admin)).body as SnapshotReport
      const snap = (await call('GET', '/v1/snapshots/c1', admin)).body
      expect(r1.snapshot).toMatchObject({ id: 'c1', root: snap.root.hash, userCount: 6, leafCount: 2 ** snap.depth })
      expect(r1.totals).toEqual([
        { symbol: 'BTC', decimals: 8, amount: String(21 * 100_000) },
        { symbol: 'ETH', decimals: 18, amount: String(7 * 15) },
      ])
      expect(r1.samples).toMatchObject({ seed: 'abc', requested: 4, drawn: 4, verified: 4, failed: 0 })
      expect(r2.samples.proofs).toEqual(r1.samples.proofs)
      expect(new Set(r1.samples.proofs.map((p) => p.leafIndex)).size).toBe(4)
      expect(r1.auditChain.ok).toBe(true)
      expect(r1.signature).toMatchObject({ alg: 'Ed25519', keyId: reportKey.keyId, publicKey: reportKey.publicKeyHex })
      expect(verifyReport(r1, reportKey.publicKeyHex)).toEqual({ ok: true, keyId: reportKey.keyId, pinned: true })
      // canonical: key order does not matter; any edit does
      const reordered = JSON.parse(canonicalJson(r1))
      expect(verifyReport(reordered).ok).toBe(true)
      const edited = structuredClone(r1)
      edited.totals[0]!.amount = '1'
      expect(verifyReport(edited)).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') })
      expect(verifyReport(r1, parseReportKey('01'.repeat(32), 'other').publicKeyHex)).toMatchObject({ ok: false })
      // the public key is published
      expect((await call('GET', '/v1/compliance/report-key', {})).body).toEqual({
        alg: 'Ed25519',
        keyId: reportKey.keyId,
        publicKey: reportKey.publicKeyHex,
      })

      const csv = await call('GET', '/v1/snapshots/c1/report?format=csv&samples=4&seed=abc', kpmg)
      expect(csv.raw.headers['content-type']).toContain('text/csv')
      const rows = (csv.body as string)
        .trim()
        .split('\r\n')
        .map((l) => l.split(','))
      expect(rows[0]).toEqual(['section', 'key', 'value', 'detail'])
      const cell = (section: string, k: string) => rows.find((r) => r[0] === section && r[1] === k)
      expect(cell('snapshot', 'root')?.[2]).toBe(snap.root.hash)
      expect(cell('total', 'BTC')?.slice(2)).toEqual(['2100000', 'decimals=8'])
      expect(cell('samples', 'seed')?.[3]).toBe('requested=4;drawn=4;verified=4;failed=0')
      expect(rows.filter((r) => r[0] === 'sample').map((r) => r[2])).toEqual(['ok', 'ok', 'ok', 'ok'])
      expect(cell('signature', 'keyId')?.[2]).toBe(reportKey.keyId)

      const pdf = await call('GET', '/v1/snapshots/c1/report?format=pdf&samples=4&seed=abc', kpmg)
      expect(pdf.raw.headers['content-type']).toBe('application/pdf')
      const bytes = new Uint8Array(pdf.raw.rawPayload)
      expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-')
      const doc = await PDFDocument.load(bytes)
      expect(doc.getPageCount()).toBeGreaterThanOrEqual(1)
      expect(doc.getSubject()).toBe(`root ${snap.root.hash}`)
      expect(doc.getTitle()).toContain('c1')
      // the attached JSON is the signed report: the PDF alone verifies
      const attached = (await readReportFile(bytes, 'report.pdf')) as SnapshotReport
      expect(attached.samples.proofs).toEqual(r1.samples.proofs)
      expect(checkReport(attached, reportKey.publicKeyHex)[0]).toMatch(
        /^OK: report of snapshot c1 .* \(the pinned key\)$/,
      )
      // every report was audited, with its seed
      const entries = (await call('GET', '/v1/audit?limit=1000', admin)).body.entries as {
        action: string
        details: Record<string, unknown>
      }[]
      expect(entries.filter((e) => e.action === 'report.generated').map((e) => e.details.format)).toEqual([
        'json',
        'json',
        'json',
        'csv',
        'pdf',
      ])
    })

    it('the CLI client fetches the report over HTTP and verifies it', async () => {
      const addr = await svc.app.listen({ host: '127.0.0.1', port: 0 })
      const token = signToken(secret, { sub: 'kpmg', role: 'auditor', ttlSeconds: 600 })
      const json = await fetchReport({ service: addr, token, snapshot: 'c2', format: 'json', samples: 3, seed: 'cli' })
      const lines = checkReport(await readReportFile(json, 'r.json'), reportKey.publicKeyHex)
      expect(lines.join('\n')).toContain('sampled proofs: 3/3 verified (seed cli)')
      const pdf = await fetchReport({ service: addr, token, snapshot: 'c2', format: 'pdf' })
      expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-')
      await expect(fetchReport({ service: addr, token, snapshot: 'nope', format: 'json' })).rejects.toThrow(
        /refused the report \(404\): snapshot nope does not exist/,
      )
      await expect(
        fetchReport({
          service: addr,
          token: signToken(secret, { sub: 'x', role: 'user', ttlSeconds: 60 }),
          snapshot: 'c2',
          format: 'csv',
        }),
      ).rejects.toThrow(/\(403\)/)
    })

    it("exports a user's data, then erases it: roots and other proofs unchanged, their proof gone with a reason", async () => {
      const before = {
        c1: (await call('GET', '/v1/snapshots/c1', admin)).body.root,
        c2: (await call('GET', '/v1/snapshots/c2', admin)).body.root,
      }
      const aliceC1 = await proofOf('c1', 'alice-7f3a') // cached in the proof cache now
      const own = bearer('user', 'alice-7f3a')
      expect((await call('GET', '/v1/snapshots/c1/proof', own)).status).toBe(200)

      const exp = await call('GET', '/v1/users/alice-7f3a/export', admin)
      expect(exp.status).toBe(200)
      expect(exp.body.snapshots.map((s: { snapshotId: string }) => s.snapshotId)).toEqual(['c1', 'c2'])
      const e1 = exp.body.snapshots[0]
      expect(e1).toMatchObject({
        leafIndex: aliceC1.leafIndex,
        salt: aliceC1.salt,
        balances: { BTC: '100000', ETH: '0' },
      })
      expect(verifyProof(e1.proof, { expectedRoot: before.c1.hash }).ok).toBe(true)
      expect(exp.body.auditEntries.some((a: { action: string }) => a.action === 'proof.read')).toBe(true)
      const leafAt = async (id: string, i: number) =>
        (await call('GET', `/v1/snapshots/${id}/leaves?offset=${i}&limit=1`, admin)).body.leaves[0]
      const aliceLeaf = await leafAt('c1', aliceC1.leafIndex)
      expect(aliceLeaf.hash).toBe(e1.leafHash)

      const erased = await call('POST', '/v1/users/alice-7f3a/erase', admin)
      expect(erased.status).toBe(200)
      expect(erased.body).toMatchObject({ snapshots: ['c1', 'c2'], pending: [], inputsDropped: [] })

      // their id, salt and lookup key are gone from every snapshot
      for (const id of ['c1', 'c2']) {
        expect(await svc.store.userIds(id)).not.toContain('alice-7f3a')
        expect((await svc.store.userIds(id)).length).toBe(5)
        expect(await svc.store.hasUser(id, 'alice-7f3a')).toBe(false)
      }
      // …their proof answers 404 with the reason, even though it was cached
      for (const [url, h] of [
        ['/v1/snapshots/c1/proof', own],
        ['/v1/snapshots/c1/proofs/alice-7f3a', admin],
        ['/v1/snapshots/c2/proofs/alice-7f3a', granted],
      ] as const) {
        const r = await call('GET', url, h)
        expect(r.status).toBe(404)
        expect(r.body.code).toBe('RESERVES_USER_UNKNOWN')
        expect(r.body.message).toContain('was erased on')
      }
      const batch = await call('POST', '/v1/snapshots/c1/proofs/batch', admin, { userIds: ['alice-7f3a', 'bob-19c2'] })
      expect(batch.body.missing).toEqual(['alice-7f3a'])
      expect(batch.body.proofs.map((p: ProofV1) => p.userId)).toEqual(['bob-19c2'])

      // the roots did not change, and every other user's proof verifies against them
      for (const id of ['c1', 'c2'] as const) {
        expect((await call('GET', `/v1/snapshots/${id}`, admin)).body.root).toEqual(before[id])
        for (const u of USERS.slice(1)) {
          const p = await proofOf(id, u)
          expect(verifyProof(p, { expectedRoot: before[id].hash }).ok).toBe(true)
        }
      }
      // the leaf stays (the root and neighbours' proofs commit to it), tied to no one now
      expect(await leafAt('c1', aliceC1.leafIndex)).toEqual(aliceLeaf)
      // the report still samples and verifies
      const report = (await call('GET', '/v1/snapshots/c1/report?samples=5&seed=after', admin)).body as SnapshotReport
      expect(report.samples).toMatchObject({ drawn: 5, verified: 5 })

      // an export now finds nothing but the erasures
      const after = (await call('GET', '/v1/users/alice-7f3a/export', admin)).body
      expect(after.snapshots).toEqual([])
      expect(after.erasures.map((e: { snapshotId: string }) => e.snapshotId)).toEqual(['c1', 'c2'])

      // audited without the personal data, and the chain verifies
      const rows = await db.sql.query(
        `SELECT action, details FROM reserves_audit WHERE action IN ('user.exported', 'user.erased')`,
      )
      expect(rows.map((r) => r.action)).toEqual(['user.exported', 'user.erased', 'user.exported'])
      expect(JSON.stringify(rows)).not.toContain('alice')
      expect((await call('GET', '/v1/audit/verify', admin)).body.ok).toBe(true)
      const m = await (await call('GET', '/metrics', {})).raw.body
      expect(m).toContain('cairn_reserves_gdpr_requests_total{action="erase"} 1')
    })
  })
}
