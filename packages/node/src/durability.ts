import { join } from 'node:path'
import type { KVStore } from '@cairn/db'
import type { Shutdown } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { ADMIN_SOCKET, AdminSocket } from './backup/admin-socket.ts'
import { createBackup } from './backup/backup.ts'
import { parseCron } from './backup/cron.ts'
import { createBackupMetrics } from './backup/metrics.ts'
import { BackupScheduler } from './backup/scheduler.ts'
import type { NodeConfig } from './config/schema.ts'
import type { DatadirLayout } from './datadir.ts'

/**
 * Wires the node's durability services for an on-disk datadir: the admin socket through which
 * `cairn db backup` asks the running node for a backup, and scheduled backups from `[backup]`.
 */
export async function startDurability(
  config: NodeConfig,
  modules: { kv: KVStore; datadir: DatadirLayout; registry: Registry; logger: Logger; shutdown: Shutdown },
): Promise<void> {
  const { kv, datadir, registry, shutdown } = modules
  const logger = modules.logger.child({ module: 'backup' })
  const metrics = createBackupMetrics(registry)
  const admin = new AdminSocket(
    { path: join(datadir.root, ADMIN_SOCKET) },
    {
      logger,
      handle: async (req) => {
        if (req.op === 'ping') return 'pong'
        try {
          const manifest = await createBackup(kv, req.out)
          metrics.lastSuccess.set(Math.floor(Date.now() / 1000))
          logger.info({ event: 'backup_done', dir: req.out, head: Number(manifest.chain.headNumber) }, 'backup done')
          return manifest
        } catch (err) {
          metrics.failures.inc()
          logger.error({ event: 'backup_failed', dir: req.out, err: (err as Error).message }, 'backup failed')
          throw err
        }
      },
    },
  )
  await admin.listen()
  shutdown.add('admin socket', () => admin.close())
  if ((config.backup.interval > 0 || config.backup.cron) && config.backup.dir) {
    const scheduler = new BackupScheduler(
      {
        dir: config.backup.dir,
        intervalSeconds: config.backup.interval,
        ...(config.backup.cron ? { cron: parseCron(config.backup.cron) } : {}),
        keep: config.backup.keep,
        maxAgeSeconds: config.backup.maxAgeHours * 3600,
      },
      { kv, logger, metrics },
    )
    scheduler.start()
    shutdown.add('backup scheduler', () => scheduler.stop())
    logger.info(
      { dir: config.backup.dir, interval: config.backup.interval, cron: config.backup.cron },
      'scheduled backups on',
    )
  }
}
