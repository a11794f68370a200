// Online backups through the service (in this process) and restores checked against the manifest:
// a busy second request, PostgreSQL's refusal, a manifest that lies about a root, a newer schema.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@cairn/service-kit'
import { isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { packBackup, unpackBackup } from '../src/features/backup/archive.ts'
import { BackupErrorCode } from '../src/features/backup/errors.ts'
import { restoreBackup } from '../src/features/backup/restore.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPglite, openPgliteThread } from '../src/kernel/sql-pglite.ts'
import { SnapshotStore } from '../src/kernel/store.ts'
import { MIGRATIONS, migrate } from '../src/schema.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const secret = new TextEncoder().encode('a-long-random-secret-for-backup-int-tests')
const admin = { authorization: `Bearer ${signToken(secret, { role: 'admin', sub: 'ops', ttlSeconds: 600 })}` }
const key = parseKeyFile('12'.repeat(32))
const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-backup-int-'))
const modules = {
  openPglite: (d: string) => openPglite(d),
  now: () => new Date('2026-11-28T07:00:00Z'),
  migrations: MIGRATIONS,
}

function service(sql: Sql): ReservesService {
  return createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3 },
    { sql, key, logger: process.env.DEBUG_BK ? createLogger({ level: 'debug', format: 'json' }) : silentLogger },
  )
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (isCairnError(err)) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error('not refused')
}

describe('online backup and checked restore (PGlite)', () => {
  let sql: Sql
  let svc: ReservesService
  let archive: Buffer
  let root = ''
  beforeAll(async () => {
    mkdirSync(join(dir, 'live'))
    sql = await openPgliteThread(join(dir, 'live', 'pgdata'))
    await migrate(sql)
    svc = service(sql)
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/snapshots?id=s1&currencies=BTC:8',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: 'userId,BTC\nalice,5\nbob,7\n',
    })
    expect(r.statusCode, r.body).toBe(202)
    await svc.idle()
    root = (await new SnapshotStore(sql, key).get('s1')).root!.hash
  }, 60_000)
  afterAll(async () => {
    await svc?.close()
    await sql?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('POST /v1/admin/backup: one at a time, the file checks, the manifest names the snapshot', async () => {
    const [a, b] = await Promise.all([
      svc.app.inject({ method: 'POST', url: '/v1/admin/backup', headers: admin }),
      svc.app.inject({ method: 'POST', url: '/v1/admin/backup', headers: admin }),
    ])
    const ok = [a, b].find((r) => r.statusCode === 200)!
    const busy = [a, b].find((r) => r.statusCode !== 200)!
    expect(busy.statusCode).toBe(503)
    expect(busy.json().code).toBe(BackupErrorCode.BUSY)
    archive = ok.rawPayload
    const { manifest } = await unpackBackup(archive)
    expect(manifest.mode).toBe('online')
    expect(manifest.snapshots).toEqual([{ id: 's1', status: 'built', root, userCount: 2 }])
    expect(manifest.keyIds).toEqual([key.id])
    expect(ok.headers['x-cairn-backup-sha256']).toMatch(/^[0-9a-f]{64}$/)
  }, 60_000)

  it('restores into an empty datadir; refuses an occupied one without --force', async () => {
    const target = join(dir, 'r1')
    const res = await restoreBackup({ archive, from: 'b', datadir: target, force: false, key }, modules)
    expect(res.keyChecked).toBe(true)
    expect(readdirSync(target)).toEqual(['pgdata'])
    const back = await openPglite(join(target, 'pgdata'))
    try {
      const p = await new SnapshotStore(back, key).proof('s1', 'bob')
      expect(p.root.hash).toBe(root)
    } finally {
      await back.close()
    }
    expect(
      await codeOf(restoreBackup({ archive, from: 'b', datadir: target, force: false, key: null }, modules)),
    ).toMatch(/^RESERVES_BACKUP_TARGET_IN_USE: .*holds data already/)
    // --force replaces, keeping the old data beside it
    const forced = await restoreBackup({ archive, from: 'b', datadir: target, force: true, key: null }, modules)
    expect(forced.replaced).toBe(join(target, 'pgdata.replaced-2026-11-28T07-00-00-000Z'))
    expect(readdirSync(target).sort()).toEqual(['pgdata', 'pgdata.replaced-2026-11-28T07-00-00-000Z'])
  }, 60_000)

  it('refuses a key that did not seal the backup, after checking the copy, writing nothing', async () => {
    const target = join(dir, 'wrong-key')
    const other = parseKeyFile('34'.repeat(32))
    const refused = await codeOf(
      restoreBackup({ archive, from: 'b', datadir: target, force: false, key: other }, modules),
    )
    expect(refused).toContain(`RESERVES_BACKUP_VERIFY_FAILED: the key file (id ${other.id}) did not seal this backup`)
    expect(readdirSync(target)).toEqual([])
  }, 60_000)

  it('refuses a manifest that disagrees with the data (re-packed with a wrong root), writing nothing', async () => {
    const { manifest, files } = await unpackBackup(archive)
    const lying = await packBackup(files, {
      ...manifest,
      snapshots: manifest.snapshots.map((s) => ({ ...s, root: `0x${'00'.repeat(32)}` })),
    })
    const target = join(dir, 'r2')
    expect(
      await codeOf(
        restoreBackup({ archive: lying.archive, from: 'lying', datadir: target, force: false, key }, modules),
      ),
    ).toMatch(
      /^RESERVES_BACKUP_VERIFY_FAILED: the restored database does not match the manifest: snapshot s1 is built with root/,
    )
    expect(readdirSync(target)).toEqual([]) // the temporary copy is gone, nothing in place
    const newer = await packBackup(files, { ...manifest, schemaVersion: 999 })
    expect(
      await codeOf(
        restoreBackup({ archive: newer.archive, from: 'newer', datadir: join(dir, 'r3'), force: false, key }, modules),
      ),
    ).toMatch(/schema version 999; this cairn knows up to \d+/)
    expect(existsSync(join(dir, 'r3'))).toBe(false)
  }, 60_000)
})

const pgDown = await postgresUnavailable()
if (pgDown) console.warn(`skipping the PostgreSQL refusal test: ${pgDown}`)

describe.skipIf(pgDown)('online backup on PostgreSQL', () => {
  let db: OpenedSql
  let svc: ReservesService
  beforeAll(async () => {
    db = await openTestSql('pg')
    svc = service(db.sql)
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
  })

  it('refuses, pointing at pg_basebackup and WAL archiving', async () => {
    const r = await svc.app.inject({ method: 'POST', url: '/v1/admin/backup', headers: admin })
    expect(r.statusCode).toBe(400)
    expect(r.json().code).toBe(BackupErrorCode.UNSUPPORTED)
    expect(r.json().hint).toMatch(/pg_basebackup/)
  })
})
