// The compliance options of the reserves service: the retention policy (snapshots and audit
// entries), the report signing key, and what auditors may read. Validated once, with errors that
// name the flag (or option field) and say what to give instead.
import type { KeyObject } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'

/** How long things are kept; null: no limit of that kind. */
export interface RetentionLimits {
  /** Keep the newest N (snapshots: built ones; audit: entries). */
  keep: number | null
  /** Remove what is older than this many days. */
  maxAgeDays: number | null
}

export interface RetentionOptions {
  /** Whether this instance runs the retention job (one instance of several is enough). */
  run: boolean
  snapshots: RetentionLimits
  audit: RetentionLimits
  /** `archive`: write what is removed to `archiveDir` first (JSON lines + manifest); `delete`: only remove. */
  mode: 'archive' | 'delete'
  archiveDir: string | null
  /** How often the job runs, ms. */
  intervalMs: number
}

/** An Ed25519 key signing auditor reports, and its public half as an auditor pins it. */
export interface ReportKey {
  privateKey: KeyObject
  /** The raw 32-byte public key, hex. */
  publicKeyHex: string
  /** First 16 hex characters of SHA-256(public key). */
  keyId: string
}

export interface ComplianceOptions {
  /** Off (null) by default: nothing is removed unless a policy is configured. */
  retention: RetentionOptions | null
  /** Null: reports are unsigned (`signature: null`). */
  reportKey: ReportKey | null
  /**
   * Who of the auditors may read per-user proofs (a user id beside its balances):
   * `all` (every auditor) or the listed auditor subjects only. Default none, in the library as in
   * `cairn reserves serve`: auditors verify with reports, leaves and the audit chain.
   */
  auditorProofReaders: 'all' | readonly string[]
  /** How often another instance's erasures and retired snapshots are picked up, ms. */
  tombstoneRefreshMs: number
}

export const DEFAULT_RETENTION: RetentionOptions = {
  run: true,
  snapshots: { keep: null, maxAgeDays: null },
  audit: { keep: null, maxAgeDays: null },
  mode: 'archive',
  archiveDir: null,
  intervalMs: 3_600_000,
}

export const DEFAULT_COMPLIANCE: ComplianceOptions = {
  retention: null,
  reportKey: null,
  auditorProofReaders: [],
  tombstoneRefreshMs: 5_000,
}

const bad = (message: string, hint?: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })

function checkLimits(l: RetentionLimits, what: string, flags: { keep: string; days: string }) {
  if (l.keep !== null && !(Number.isInteger(l.keep) && l.keep >= 1))
    throw bad(`${flags.keep} must be a whole number ≥ 1, not ${l.keep}`, `the newest ${what} to keep`)
  if (l.maxAgeDays !== null && !(Number.isFinite(l.maxAgeDays) && l.maxAgeDays > 0))
    throw bad(`${flags.days} must be a number of days > 0, not ${l.maxAgeDays}`, `${what} older than this are removed`)
}

/** Throws RESERVES_BAD_OPTIONS naming the first unusable setting. */
export function checkRetention(r: RetentionOptions): void {
  checkLimits(r.snapshots, 'snapshots', { keep: '--retain-snapshots', days: '--retain-days' })
  checkLimits(r.audit, 'audit entries', { keep: '--retain-audit-entries', days: '--retain-audit-days' })
  if (r.mode !== 'archive' && r.mode !== 'delete')
    throw bad(`--retention-mode is archive or delete, not ${String(r.mode)}`)
  if (r.mode === 'archive' && !r.archiveDir)
    throw bad('--retention-mode archive needs --retention-archive-dir', 'or use --retention-mode delete')
  if (!(Number.isInteger(r.intervalMs) && r.intervalMs >= 1000))
    throw bad(`--retention-interval must be at least 1 (seconds), not ${r.intervalMs / 1000}`)
  const none = [r.snapshots.keep, r.snapshots.maxAgeDays, r.audit.keep, r.audit.maxAgeDays].every((v) => v === null)
  if (none)
    throw bad(
      'a retention policy needs a limit',
      'give --retain-snapshots, --retain-days, --retain-audit-entries or --retain-audit-days',
    )
}
