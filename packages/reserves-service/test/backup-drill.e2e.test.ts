// The PGlite restore drill, as an operator runs it: a real `cairn reserves serve` on a datadir
// takes a snapshot; an online backup is taken through it (POST /v1/admin/backup via
// `cairn reserves backup --url`); the service stops; `cairn reserves restore` puts the backup in a
// new datadir; a service started on it serves a user's proof that verifies against the same root.
// Damaged archives and an occupied target are refused with nothing written (a wrong key and
// --force: backup.int.test.ts).
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { verifyProof } from '@cairn/reserves/verifier'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken } from '../src/kernel/auth.ts'
import { CAIRN_BIN, reservesCli } from './cli-harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-backup-'))
const cli = reservesCli(dir)
const secret = new TextEncoder().encode('a-long-random-secret-for-the-backup-drill')
const auth = (role: 'admin' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { role, sub, ttlSeconds: 600 })}`,
})

/** `cairn reserves serve --datadir <datadir>` as a process in `dir`, once it says its address. */
async function startServe(datadir: string) {
  const child = spawn(
    'node',
    [
      CAIRN_BIN,
      'reserves',
      'serve',
      '--datadir',
      datadir,
      '--key-file',
      'at-rest.key',
      '--jwt-secret-file',
      'jwt.secret',
      '--min-depth',
      '3',
      '--http.port',
      '0',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  ) as ChildProcessByStdio<null, Readable, Readable>
  let logs = ''
  child.stderr.on('data', (d) => {
    logs += d
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${logs}`)), 90_000)
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${logs}`)))
    child.stdout.on('data', (d) => {
      logs += d
      const m = /"addr":"(http:[^"]+)"/.exec(logs)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] as string)
      }
    })
  })
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
  return { url, stop }
}

type Proof = { root: { hash: string }; userId: string; snapshotId: string }

async function proofOf(url: string, user: string): Promise<Proof> {
  const res = await fetch(`${url}/v1/snapshots/drill/proof`, { headers: auth('user', user) })
  expect(res.status).toBe(200)
  return (await res.json()) as Proof
}

/** A copy of `file` with the byte at `at` (negative: from the end) flipped. */
function flipped(file: string, at: number, name: string): string {
  const b = readFileSync(join(dir, file))
  const i = at < 0 ? b.length + at : at
  b[i] = (b[i] as number) ^ 0xff
  writeFileSync(join(dir, name), b)
  return name
}

describe('reserves backup and restore (PGlite drill)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('online backup of a running service → restore into a new datadir → same root, verifying proofs; damage refused', async () => {
    writeFileSync(join(dir, 'at-rest.key'), 'ab'.repeat(32), { mode: 0o600 })
    writeFileSync(join(dir, 'jwt.secret'), secret, { mode: 0o600 })
    writeFileSync(join(dir, 'admin.token'), signToken(secret, { role: 'admin', sub: 'backup-bot', ttlSeconds: 600 }), {
      mode: 0o600,
    })
    mkdirSync(join(dir, 'backups'))

    // 1. a service on datadir "live" with one built snapshot
    const live = await startServe('live')
    let root = ''
    let before: Proof
    let backupFile = ''
    try {
      const post = await fetch(`${live.url}/v1/snapshots?id=drill&currencies=BTC:8,ETH:18`, {
        method: 'POST',
        headers: { ...auth('admin', 'ops'), 'content-type': 'text/csv' },
        body: 'userId,BTC,ETH\nalice,5,1\nbob,7,2\ncarol,0,3\n',
      })
      expect(post.status).toBe(202)
      let snap = { status: 'building', root: null as { hash: string } | null }
      for (let i = 0; i < 300 && snap.status === 'building'; i++) {
        await new Promise((r) => setTimeout(r, 100))
        snap = (await (
          await fetch(`${live.url}/v1/snapshots/drill`, { headers: auth('admin', 'ops') })
        ).json()) as typeof snap
      }
      expect(snap.status).toBe('built')
      root = snap.root!.hash
      before = await proofOf(live.url, 'bob')

      // an offline backup of a datadir the service holds is refused (PGlite keeps no lock of its own)
      const busy = await cli('backup', '--datadir', 'live', '--out', 'backups/offline.cairn-backup')
      expect(busy.code).not.toBe(0)
      expect(busy.stderr).toMatch(/is open in process \d+/)
      expect(busy.stderr).toMatch(/--url/)
      expect(readdirSync(join(dir, 'backups'))).toEqual([])

      // a user may not take one
      const asUser = await fetch(`${live.url}/v1/admin/backup`, { method: 'POST', headers: auth('user', 'bob') })
      expect(asUser.status).toBe(403)

      // 2. the online backup, through the running service
      const b = await cli('backup', '--url', live.url, '--token-file', 'admin.token', '--out', 'backups')
      expect(b.stderr).toBe('')
      expect(b.code).toBe(0)
      const made = JSON.parse(b.stdout) as {
        file: string
        sha256: string
        mode: string
        snapshots: { id: string; root: string }[]
      }
      expect(made.mode).toBe('online')
      expect(made.snapshots).toEqual([{ id: 'drill', status: 'built', root }])
      backupFile = made.file
      expect(existsSync(join(dir, backupFile))).toBe(true)

      // the service keeps answering afterwards; the backup is audited and counted
      expect((await proofOf(live.url, 'alice')).root.hash).toBe(root)
      const audit = (await (await fetch(`${live.url}/v1/audit`, { headers: auth('admin', 'ops') })).json()) as {
        entries: { action: string; actor: string; details: { sha256?: string } }[]
      }
      const taken = audit.entries.find((e) => e.action === 'backup.taken')
      expect(taken?.actor).toBe('backup-bot')
      expect(taken?.details.sha256).toBe(made.sha256)
      const metrics = await (await fetch(`${live.url}/metrics`)).text()
      expect(metrics).toMatch(/cairn_reserves_backups_total\{result="ok"\} 1/)
      expect(metrics).toMatch(/cairn_reserves_backups_total\{result="failed"\} 0/)
      expect(metrics).toMatch(/cairn_reserves_backup_last_success_timestamp_seconds [1-9]/)
    } finally {
      await live.stop()
    }

    // 3. damaged archives are refused before anything is written
    for (const [at, name] of [
      [-2000, 'data-flip.cairn-backup'], // inside pgdata.tar.gz
      [600, 'manifest-flip.cairn-backup'], // inside manifest.json
    ] as const) {
      const bad = await cli('restore', '--from', flipped(backupFile, at, name), '--datadir', 'never')
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toMatch(/damaged/)
      expect(existsSync(join(dir, 'never'))).toBe(false)
    }
    // an occupied datadir needs --force
    const occupied = await cli('restore', '--from', backupFile, '--datadir', 'live')
    expect(occupied.code).not.toBe(0)
    expect(occupied.stderr).toMatch(/holds data already/)

    // 4. restore into a new datadir, checked against the manifest and the key
    const r = await cli('restore', '--from', backupFile, '--datadir', 'restored', '--key-file', 'at-rest.key')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const res = JSON.parse(r.stdout) as { restored: string; keyChecked: boolean; snapshots: { root: string }[] }
    expect(res.keyChecked).toBe(true)
    expect(res.snapshots[0]?.root).toBe(root)
    expect(readdirSync(join(dir, 'restored'))).toEqual(['pgdata'])

    // 5. a service on the restored datadir serves the same tree
    const again = await startServe('restored')
    try {
      const after = await proofOf(again.url, 'bob')
      expect(after.root.hash).toBe(root)
      expect(after).toEqual(before!)
      expect(verifyProof(after, { expectedRoot: root }).ok).toBe(true)
    } finally {
      await again.stop()
    }
    const audit = await cli('audit', 'verify', '--datadir', 'restored')
    expect(audit.stdout).toMatch(/^OK: \d+ entries/)
  }, 240_000)
})
