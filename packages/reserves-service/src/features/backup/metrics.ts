import { Counter, Gauge, type Registry } from 'prom-client'

/** Metrics of online backups (POST /v1/admin/backup); offline CLI backups are not seen here. */
export interface BackupMetrics {
  /** Backups by result: ok, failed (both exported at 0). */
  backups: Counter<'result'>
  /** Unix time of the newest successful backup (0: none since the service started). */
  lastSuccess: Gauge
  /** Size of the newest successful backup file. */
  lastBytes: Gauge
  /** How long the newest successful backup held the database. */
  lastSeconds: Gauge
}

export function createBackupMetrics(registry: Registry): BackupMetrics {
  const registers = [registry]
  const backups = new Counter({
    name: 'cairn_reserves_backups_total',
    help: 'Online backups taken through the service, by result (ok, failed)',
    labelNames: ['result'],
    registers,
  })
  for (const result of ['ok', 'failed']) backups.inc({ result }, 0)
  return {
    backups,
    lastSuccess: new Gauge({
      name: 'cairn_reserves_backup_last_success_timestamp_seconds',
      help: 'Unix time of the newest successful online backup (0: none since the service started)',
      registers,
    }),
    lastBytes: new Gauge({
      name: 'cairn_reserves_backup_last_size_bytes',
      help: 'Size of the newest successful online backup file',
      registers,
    }),
    lastSeconds: new Gauge({
      name: 'cairn_reserves_backup_last_duration_seconds',
      help: 'How long the newest successful online backup took (the database is held meanwhile)',
      registers,
    }),
  }
}
