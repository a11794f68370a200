import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { KVStore } from '@cairn/db'
import type { Logger } from '@cairn/utils'
import { createBackup } from './backup.ts'
import type { CronSchedule } from './cron.ts'
import { type BackupManifest, readManifest } from './manifest.ts'
import type { BackupMetrics } from './metrics.ts'

export interface BackupScheduleOptions {
  /** Directory that receives one `cairn-backup-<time>-<head>` directory per backup. */
  dir: string
  /** Seconds between backups (used when there is no cron schedule). */
  intervalSeconds: number
  /** A cron schedule (UTC); wins over the interval. */
  cron?: CronSchedule
  /** Backups kept (the newest ones). */
  keep: number
  /** Backups older than this are removed (0: no age limit); the newest one is always kept. */
  maxAgeSeconds: number
}

const PREFIX = 'cairn-backup-'

/**
 * Takes a backup every `intervalSeconds` while the node runs, then applies retention. A failure
 * is counted (`cairn_backup_failures_total`) and logged as `backup failed` with
 * `event: "backup_failed"` for alerts to match; success sets
 * `cairn_backup_last_success_timestamp_seconds`.
 */
export class BackupScheduler {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly opts: BackupScheduleOptions,
    private readonly modules: { kv: KVStore; logger: Logger; metrics: BackupMetrics | null },
  ) {}

  start(): void {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 })
    const tick = () => {
      this.running = this.runOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.delayMs())
      })
    }
    this.timer = setTimeout(tick, this.delayMs())
  }

  /** Milliseconds until the next backup is due. */
  delayMs(now: Date = new Date()): number {
    if (this.opts.cron) return Math.max(0, this.opts.cron.nextAfter(now).getTime() - now.getTime())
    return this.opts.intervalSeconds * 1000
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running.catch(() => {})
  }

  /** Takes one backup now and applies retention; never throws (failures are counted and logged). */
  async runOnce(): Promise<BackupManifest | undefined> {
    const { logger, metrics, kv } = this.modules
    const started = Date.now()
    const name = `${PREFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`
    try {
      const manifest = await createBackup(kv, join(this.opts.dir, name))
      const seconds = (Date.now() - started) / 1000
      const bytes = manifest.files.reduce((s, f) => s + f.size, 0)
      metrics?.lastSuccess.set(Math.floor(Date.now() / 1000))
      metrics?.lastDuration.set(seconds)
      metrics?.lastSize.set(bytes)
      logger.info(
        {
          event: 'backup_done',
          dir: join(this.opts.dir, name),
          head: Number(manifest.chain.headNumber),
          bytes,
          seconds,
        },
        `backup done at block ${manifest.chain.headNumber}`,
      )
      this.prune()
      return manifest
    } catch (err) {
      metrics?.failures.inc()
      logger.error({ event: 'backup_failed', dir: this.opts.dir, err: (err as Error).message }, 'backup failed')
      return undefined
    }
  }

  /** Applies retention: keeps the newest `keep`, drops those older than `maxAgeSeconds`. */
  prune(now = Date.now()): string[] {
    if (!existsSync(this.opts.dir)) return []
    const backups = readdirSync(this.opts.dir)
      .filter((n) => n.startsWith(PREFIX) && !n.includes('.partial-'))
      .map((n) => {
        const dir = join(this.opts.dir, n)
        let created: number
        try {
          created = Date.parse(readManifest(dir).createdAt)
        } catch {
          created = statSync(dir).mtimeMs
        }
        return { dir, created }
      })
      .sort((a, b) => b.created - a.created)
    const removed: string[] = []
    backups.forEach((b, i) => {
      const tooOld = this.opts.maxAgeSeconds > 0 && now - b.created > this.opts.maxAgeSeconds * 1000
      if (i > 0 && (i >= this.opts.keep || tooOld)) {
        rmSync(b.dir, { recursive: true, force: true })
        removed.push(b.dir)
      }
    })
    if (removed.length) this.modules.logger.info({ removed }, `backup retention removed ${removed.length} backup(s)`)
    return removed
  }
}
