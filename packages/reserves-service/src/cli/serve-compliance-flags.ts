// `cairn reserves serve`'s compliance flags: the retention policy, the report signing key, and
// which auditors may read per-user proofs. Parsed and validated before the service opens storage.
import { join } from 'node:path'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import {
  type ComplianceOptions,
  checkRetention,
  DEFAULT_COMPLIANCE,
  DEFAULT_RETENTION,
  type RetentionOptions,
} from '../features/compliance/options.ts'
import { parseReportKey } from '../features/compliance/report-key.ts'

export interface ComplianceFlags {
  retainSnapshots?: string
  retainDays?: string
  retainAuditEntries?: string
  retainAuditDays?: string
  retentionMode: string
  retentionArchiveDir?: string
  retentionInterval: string
  retention: boolean
  reportKeyFile?: string
  auditorProofReaders: string
}

/** Adds the compliance flags to the serve command (returns it, for chaining). */
export function complianceFlags(cmd: Command): Command {
  return cmd
    .option('--retain-snapshots <n>', 'keep the newest N built snapshots; older ones are archived or deleted')
    .option('--retain-days <d>', 'archive or delete snapshots created more than D days ago')
    .option('--retain-audit-entries <n>', 'keep the newest N audit entries (the rest pruned behind a checkpoint)')
    .option('--retain-audit-days <d>', 'prune audit entries older than D days (behind a checkpoint)')
    .option('--retention-mode <mode>', 'archive (JSON lines + manifest first) or delete', 'archive')
    .option('--retention-archive-dir <dir>', 'where archived snapshots and audit entries go (default DATADIR/archive)')
    .option('--retention-interval <s>', 'how often the retention job runs, seconds', '3600')
    .option('--no-retention', 'do not run the retention job here (another instance does)')
    .option('--report-key-file <file>', 'Ed25519 key signing auditor reports (PEM, or 64 hex)')
    .option(
      '--auditor-proof-readers <subs>',
      'auditor subjects that may read per-user proofs (comma-separated; default none: auditors verify without them)',
      '',
    )
}

function number(flag: string, text: string | undefined, whole: boolean): number | null {
  if (text === undefined) return null
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || (whole && !Number.isInteger(n)))
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `${flag} must be ${whole ? 'a whole number' : 'a number'}, not ${JSON.stringify(text)}`,
      { fault: 'caller' },
    )
  return n
}

/** The service's compliance options from the flags (the report key's text read through the secrets); throws RESERVES_BAD_OPTIONS naming the flag at fault. */
export function complianceOptions(o: ComplianceFlags & { datadir: string }, reportKeyText?: string): ComplianceOptions {
  const retention: RetentionOptions = {
    ...DEFAULT_RETENTION,
    run: o.retention,
    snapshots: {
      keep: number('--retain-snapshots', o.retainSnapshots, true),
      maxAgeDays: number('--retain-days', o.retainDays, false),
    },
    audit: {
      keep: number('--retain-audit-entries', o.retainAuditEntries, true),
      maxAgeDays: number('--retain-audit-days', o.retainAuditDays, false),
    },
    mode: o.retentionMode as RetentionOptions['mode'],
    archiveDir: o.retentionArchiveDir ?? join(o.datadir, 'archive'),
    intervalMs: Math.round((number('--retention-interval', o.retentionInterval, false) ?? 0) * 1000),
  }
  const configured = [retention.snapshots, retention.audit].some((l) => l.keep !== null || l.maxAgeDays !== null)
  if (configured) checkRetention(retention)
  const readers = o.auditorProofReaders
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  return {
    ...DEFAULT_COMPLIANCE,
    retention: configured ? retention : null,
    reportKey:
      o.reportKeyFile && reportKeyText !== undefined
        ? parseReportKey(reportKeyText, `--report-key-file ${o.reportKeyFile}`)
        : null,
    auditorProofReaders: readers,
  }
}
