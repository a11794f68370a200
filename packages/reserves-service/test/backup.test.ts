// The backup file format on its own: tar round trip, and every kind of damage refused with what is wrong.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isCairnError } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { packBackup, unpackBackup } from '../src/features/backup/archive.ts'
import { BackupErrorCode } from '../src/features/backup/errors.ts'
import { processesUsing } from '../src/features/backup/in-use.ts'
import { compareSnapshots } from '../src/features/backup/manifest.ts'
import { readTar, type TarEntry, writeTar } from '../src/features/backup/tar.ts'

const bytes = (s: string) => new TextEncoder().encode(s)
const files: TarEntry[] = [
  { path: 'PG_VERSION', dir: false, mode: 0o600, data: bytes('17\n') },
  { path: 'base', dir: true, mode: 0o700, data: new Uint8Array(0) },
  { path: 'base/1', dir: true, mode: 0o700, data: new Uint8Array(0) },
  { path: 'base/1/1259', dir: false, mode: 0o600, data: new Uint8Array(8192 * 3).map((_, i) => i % 251) },
  { path: 'base/1/empty', dir: false, mode: 0o600, data: new Uint8Array(0) },
  { path: `${'d'.repeat(120)}/${'f'.repeat(90)}`, dir: false, mode: 0o600, data: bytes('long name') },
]
const about = {
  createdAt: '2026-11-28T06:00:00.000Z',
  mode: 'offline' as const,
  pgVersion: '17',
  schemaVersion: 5,
  snapshots: [{ id: 's1', status: 'built', root: `0x${'aa'.repeat(32)}`, userCount: 2 }],
  keyIds: ['0123456789abcdef'],
  audit: { seq: 3, head: `0x${'bb'.repeat(32)}` },
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    expect(isCairnError(err, BackupErrorCode.ARCHIVE_INVALID)).toBe(true)
    return (err as Error).message
  }
  throw new Error('not refused')
}

describe('backup archive', () => {
  it('tar: writes and reads back files, directories, empty files and long names', () => {
    const back = readTar(writeTar(files, 1_700_000_000), 'test')
    expect(back.map((e) => [e.path, e.dir, Buffer.from(e.data).toString('hex')])).toEqual(
      files.map((e) => [e.path, e.dir, Buffer.from(e.data).toString('hex')]),
    )
  })

  it('round trip: the manifest carries the data checksum and the summary', async () => {
    const b = await packBackup(files, about)
    expect(b.manifest.data.files).toBe(4)
    expect(b.sha256).toMatch(/^[0-9a-f]{64}$/)
    const { manifest, files: got } = await unpackBackup(b.archive)
    expect(manifest).toEqual(b.manifest)
    expect(got.find((f) => f.path === 'base/1/1259')?.data).toEqual(files[3]?.data)
  })

  it('refuses a flipped byte anywhere: tar header, manifest, data; and truncation and foreign files', async () => {
    const { archive } = await packBackup(files, about)
    const flip = (at: number) => {
      const c = Buffer.from(archive)
      c[at] = (c[at] as number) ^ 0x01
      return c
    }
    expect(await refusal(unpackBackup(flip(10)))).toMatch(/tar header at byte 0 does not check/)
    expect(await refusal(unpackBackup(flip(600)))).toMatch(/manifest\.json does not match its SHA-256/)
    expect(await refusal(unpackBackup(flip(archive.length - 1024 - 700)))).toMatch(/pgdata\.tar\.gz has SHA-256/)
    expect(await refusal(unpackBackup(archive.subarray(0, archive.length - 1500)))).toMatch(/truncated/)
    expect(await refusal(unpackBackup(writeTar(files, 0)))).toMatch(/is not a reserves backup/)
    expect(await refusal(unpackBackup(bytes('hello')))).toMatch(/truncated|damaged/)
  })

  it('compares snapshots: missing, different root or status, extra', () => {
    const want = about.snapshots
    expect(compareSnapshots(want, want)).toEqual([])
    expect(compareSnapshots(want, [])).toEqual(['snapshot s1 is missing'])
    expect(compareSnapshots(want, [{ ...want[0]!, root: '0x00' }])[0]).toMatch(/s1 is built with root 0x00/)
    expect(compareSnapshots([], want)).toEqual(['snapshot s1 is not in the manifest'])
  })
})

describe('processesUsing', () => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-in-use-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('names the processes with a file open under the directory (a fake /proc)', () => {
    const proc = join(root, 'proc')
    for (const [pid, target] of [
      ['101', '/srv/reserves/pgdata/base/1/1259'],
      ['102', '/srv/reserves/other/file'],
      ['103', '/srv/reserves/pgdata2/x'],
    ] as const) {
      mkdirSync(join(proc, pid, 'fd'), { recursive: true })
      symlinkSync(target, join(proc, pid, 'fd', '3'))
    }
    mkdirSync(join(proc, 'self'))
    expect(processesUsing('/srv/reserves/pgdata', proc)).toEqual([101])
    expect(processesUsing('/srv/nothing', proc)).toEqual([])
    expect(processesUsing('/srv/x', join(root, 'no-proc'))).toEqual([])
  })
})
