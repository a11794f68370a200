import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import type { Logger } from '@cairn/utils'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBackupMetrics } from '../../src/backup/metrics.ts'
import { BackupScheduler } from '../../src/backup/scheduler.ts'
import { buildFixtureChain } from './fixture.ts'

let source: string
let kv: LevelKV
const dirs: string[] = []
beforeAll(async () => {
  source = await buildFixtureChain()
  dirs.push(source)
  kv = new LevelKV({ path: join(source, 'chaindata') })
  await kv.open()
}, 60_000)
afterAll(async () => {
  await kv.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('scheduled backups', () => {
  it('take a backup every interval (the recovery point), keep the newest N and set the success metric', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-sched-'))
    dirs.push(dir)
    const registry = new Registry()
    const metrics = createBackupMetrics(registry)
    const s = new BackupScheduler(
      { dir, intervalSeconds: 1, keep: 2, maxAgeSeconds: 0 },
      { kv, logger: silentLogger, metrics },
    )
    const before = Math.floor(Date.now() / 1000)
    s.start()
    await sleep(4_500)
    await s.stop()
    const backups = readdirSync(dir).filter((n) => n.startsWith('cairn-backup-'))
    expect(backups).toHaveLength(2)
    const text = await registry.metrics()
    const last = Number(/^cairn_backup_last_success_timestamp_seconds (\d+)/m.exec(text)?.[1])
    expect(last).toBeGreaterThanOrEqual(before)
  }, 60_000)

  it('a failing backup is counted and logged with an event an alert can match', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cairn-sched-')), 'not-a-dir')
    dirs.push(file)
    writeFileSync(file, 'x')
    const lines: Record<string, unknown>[] = []
    const logger = {
      ...silentLogger,
      info: () => {},
      error: (obj: Record<string, unknown>) => void lines.push(obj),
      child: () => logger,
    } as unknown as Logger
    const registry = new Registry()
    const s = new BackupScheduler(
      { dir: join(file, 'sub'), intervalSeconds: 1, keep: 2, maxAgeSeconds: 0 },
      { kv, logger, metrics: createBackupMetrics(registry) },
    )
    expect(await s.runOnce()).toBeUndefined()
    expect(lines[0]).toMatchObject({ event: 'backup_failed' })
    expect(await registry.metrics()).toMatch(/^cairn_backup_failures_total 1$/m)
  })
})
