import { Counter, type Registry } from 'prom-client'

/** The compliance metrics (on the service's registry). */
export interface ComplianceMetrics {
  /** What the retention job removed, by kind: snapshot, audit_entry. */
  retentionRemoved: Counter<'kind'>
  /** Retention runs that failed (the next interval tries again). */
  retentionFailures: Counter
  /** GDPR requests served, by action: export, erase. */
  gdprRequests: Counter<'action'>
  /** Auditor reports generated, by format: json, csv, pdf. */
  reports: Counter<'format'>
}

export const RETENTION_KINDS = ['snapshot', 'audit_entry'] as const

/** The registry's own when it has them already (a service made again on the same registry). */
export function createComplianceMetrics(registry: Registry): ComplianceMetrics {
  const registers = [registry]
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined
  const retentionRemoved =
    existing<Counter<'kind'>>('cairn_reserves_retention_removed_total') ??
    new Counter({
      name: 'cairn_reserves_retention_removed_total',
      help: 'What the retention policy removed (archived or deleted), by kind: snapshot, audit_entry',
      labelNames: ['kind'],
      registers,
    })
  for (const kind of RETENTION_KINDS) retentionRemoved.inc({ kind }, 0)
  const retentionFailures =
    existing<Counter>('cairn_reserves_retention_failures_total') ??
    new Counter({
      name: 'cairn_reserves_retention_failures_total',
      help: 'Retention runs that failed (retried at the next interval)',
      registers,
    })
  const gdprRequests =
    existing<Counter<'action'>>('cairn_reserves_gdpr_requests_total') ??
    new Counter({
      name: 'cairn_reserves_gdpr_requests_total',
      help: 'GDPR requests served, by action: export, erase',
      labelNames: ['action'],
      registers,
    })
  for (const action of ['export', 'erase']) gdprRequests.inc({ action }, 0)
  const reports =
    existing<Counter<'format'>>('cairn_reserves_reports_total') ??
    new Counter({
      name: 'cairn_reserves_reports_total',
      help: 'Auditor reports generated, by format: json, csv, pdf',
      labelNames: ['format'],
      registers,
    })
  for (const format of ['json', 'csv', 'pdf']) reports.inc({ format }, 0)
  return { retentionRemoved, retentionFailures, gdprRequests, reports }
}
