import { Counter, Gauge, type Registry } from 'prom-client'

/** Metrics of backups taken by the node (scheduled or asked for through the admin socket). */
export interface BackupMetrics {
  lastSuccess: Gauge
  failures: Counter
  lastDuration: Gauge
  lastSize: Gauge
}

export function createBackupMetrics(register: Registry): BackupMetrics {
  const registers = [register]
  return {
    lastSuccess: new Gauge({
      name: 'cairn_backup_last_success_timestamp_seconds',
      help: 'Unix time of the last backup that completed and verified (0: none yet)',
      registers,
    }),
    failures: new Counter({ name: 'cairn_backup_failures_total', help: 'Backups that failed', registers }),
    lastDuration: new Gauge({
      name: 'cairn_backup_last_duration_seconds',
      help: 'How long the last successful backup took',
      registers,
    }),
    lastSize: new Gauge({
      name: 'cairn_backup_last_size_bytes',
      help: 'Size of the last successful backup',
      registers,
    }),
  }
}
