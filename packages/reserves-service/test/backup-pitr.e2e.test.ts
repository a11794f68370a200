// PostgreSQL point-in-time recovery drill (docs/reserves/backup.md, "PostgreSQL"): a throwaway
// cluster of its own (initdb + pg_ctl on free ports in a temp dir, never the shared server at
// :5432) with WAL archiving; the reserves service builds a snapshot, pg_basebackup copies the
// cluster, two more snapshots follow with a recorded time between them; the base backup is
// restored with restore_command + recovery_target_time, and a service on it sees exactly the
// snapshots committed before that time, with the same roots and verifying proofs.
import { execFileSync } from 'node:child_process'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { migrate } from '../src/schema.ts'

/** The newest installed PostgreSQL's bin directory with the tools this drill runs, or null. */
function pgBin(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const bin = join(root, v, 'bin')
    if (['initdb', 'pg_ctl', 'pg_basebackup'].every((t) => existsSync(join(bin, t)))) return bin
  }
  return null
}

const BIN = pgBin()
const isRoot = process.getuid?.() === 0
let postgresUid = -1
let postgresGid = -1
try {
  postgresUid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  postgresGid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
} catch {}
const skip = !BIN
  ? 'no initdb/pg_ctl/pg_basebackup under /usr/lib/postgresql/*/bin'
  : !isRoot
    ? 'not root: the drill runs its cluster as the postgres user (runuser)'
    : postgresUid < 0
      ? 'no postgres user'
      : null
if (skip) console.warn(`skipping the PostgreSQL point-in-time recovery drill: ${skip}`)

/** Runs a PostgreSQL tool as the postgres user (initdb refuses root). */
const asPostgres = (tool: string, args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', join(BIN as string, tool), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  }).toString()

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

const secret = new TextEncoder().encode('a-long-random-secret-for-the-pitr-drill')
const admin = { authorization: `Bearer ${signToken(secret, { role: 'admin', sub: 'ops', ttlSeconds: 600 })}` }
const asUser = (sub: string) => ({
  authorization: `Bearer ${signToken(secret, { role: 'user', sub, ttlSeconds: 600 })}`,
})
const key = parseKeyFile('ef'.repeat(32))

/** The reserves service (in this process) on a PostgreSQL URL. */
async function serviceOn(url: string): Promise<{ sql: Sql; svc: ReservesService; close: () => Promise<void> }> {
  const sql = await openPostgres(url, 2)
  await migrate(sql)
  const svc = createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3 },
    { sql, key, logger: silentLogger },
  )
  return {
    sql,
    svc,
    close: async () => {
      await svc.close()
      await sql.close()
    },
  }
}

async function snapshot(svc: ReservesService, id: string, csv: string): Promise<string> {
  const r = await svc.app.inject({
    method: 'POST',
    url: `/v1/snapshots?id=${id}&currencies=BTC:8`,
    headers: { ...admin, 'content-type': 'text/csv' },
    payload: csv,
  })
  expect(r.statusCode).toBe(202)
  await svc.idle()
  const s = (await svc.app.inject({ method: 'GET', url: `/v1/snapshots/${id}`, headers: admin })).json() as {
    status: string
    root: { hash: string }
  }
  expect(s.status).toBe('built')
  return s.root.hash
}

describe.skipIf(skip)('PostgreSQL point-in-time recovery (pg_basebackup + WAL archive)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-pitr-'))
  const primary = join(dir, 'primary')
  const archive = join(dir, 'wal-archive')
  const base = join(dir, 'base-backup')
  const restored = join(dir, 'restored')
  const running: string[] = []

  const startCluster = (data: string) => {
    asPostgres('pg_ctl', ['-D', data, '-l', join(dir, `${data.split('/').pop()}.log`), '-w', '-t', '90', 'start'])
    running.push(data)
  }

  beforeAll(() => {
    mkdirSync(archive)
    chownSync(dir, postgresUid, postgresGid)
    chownSync(archive, postgresUid, postgresGid)
  })
  afterAll(() => {
    for (const data of running)
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {}
    rmSync(dir, { recursive: true, force: true })
  })

  it('restores to a time between two snapshots: exactly the earlier snapshots, same roots', async () => {
    // 1. a cluster of its own, archiving every WAL segment
    const port = await freePort()
    asPostgres('initdb', ['-D', primary, '-A', 'trust', '-U', 'postgres', '--no-sync'])
    appendFileSync(
      join(primary, 'postgresql.conf'),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'wal_level = replica',
        'archive_mode = on',
        `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
        'max_wal_senders = 3',
        'fsync = off', // a test cluster; the procedure is the same with fsync on
        '',
      ].join('\n'),
    )
    startCluster(primary)
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`

    const a = await serviceOn(url)
    const roots: Record<string, string> = {}
    let target = ''
    try {
      roots.s1 = await snapshot(a.svc, 's1', 'userId,BTC\nalice,5\nbob,7\n')

      // 2. the base backup (plain format, WAL streamed alongside)
      asPostgres('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-D',
        base,
        '-Fp',
        '-Xs',
        '-c',
        'fast',
      ])

      roots.s2 = await snapshot(a.svc, 's2', 'userId,BTC\nalice,6\nbob,8\ncarol,1\n')
      // 3. the recovery target: a server time after s2 committed and before s3 does
      await new Promise((r) => setTimeout(r, 1100))
      target = String((await a.sql.query("SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.USOF') AS t"))[0]?.t)
      await new Promise((r) => setTimeout(r, 1100))
      roots.s3 = await snapshot(a.svc, 's3', 'userId,BTC\nalice,9\n')
      // the WAL holding s3 goes to the archive (in production: archive_timeout, or the next segment)
      const seg = String((await a.sql.query('SELECT pg_walfile_name(pg_switch_wal()) AS f'))[0]?.f)
      for (let i = 0; i < 200; i++) {
        const r = await a.sql.query('SELECT last_archived_wal FROM pg_stat_archiver')
        if (String(r[0]?.last_archived_wal ?? '') >= seg) break
        await new Promise((res) => setTimeout(res, 100))
      }
      expect(existsSync(join(archive, seg))).toBe(true)
    } finally {
      await a.close()
    }
    expect(new Set(Object.values(roots)).size).toBe(3)

    // 4. restore: the base backup in a new directory, restore_command + recovery_target_time + recovery.signal
    const port2 = await freePort()
    execFileSync('cp', ['-a', base, restored])
    appendFileSync(
      join(restored, 'postgresql.auto.conf'),
      [
        `port = ${port2}`,
        "archive_mode = 'off'",
        `restore_command = 'cp ${archive}/%f %p'`,
        `recovery_target_time = '${target}'`,
        "recovery_target_action = 'promote'",
        '',
      ].join('\n'),
    )
    writeFileSync(join(restored, 'recovery.signal'), '')
    chownSync(join(restored, 'recovery.signal'), postgresUid, postgresGid)
    startCluster(restored)

    // 5. a service on the recovered cluster: s1 and s2, not s3; the same roots; proofs verify. The
    // server answers while it still replays (read-only): the service starts once it is promoted.
    const url2 = `postgres://postgres@127.0.0.1:${port2}/postgres`
    const probe = await openPostgres(url2, 1)
    try {
      let promoted = false
      for (let i = 0; i < 600 && !promoted; i++) {
        promoted = (await probe.query('SELECT pg_is_in_recovery() AS r'))[0]?.r === false
        if (!promoted) await new Promise((res) => setTimeout(res, 100))
      }
      expect(promoted, 'the recovered cluster was not promoted within 60 s').toBe(true)
    } finally {
      await probe.close()
    }
    const b = await serviceOn(url2)
    try {
      const list = (await b.svc.app.inject({ method: 'GET', url: '/v1/snapshots', headers: admin })).json() as {
        items: { id: string; root: { hash: string } | null }[]
      }
      const seen = Object.fromEntries(list.items.map((s) => [s.id, s.root?.hash]))
      expect(seen).toEqual({ s1: roots.s1, s2: roots.s2 })
      const proof = (
        await b.svc.app.inject({ method: 'GET', url: '/v1/snapshots/s2/proof', headers: asUser('carol') })
      ).json()
      expect(verifyProof(proof, { expectedRoot: roots.s2 as string }).ok).toBe(true)
    } finally {
      await b.close()
    }
  }, 180_000)
})
