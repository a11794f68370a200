// The audit view's search and export: which entries match, the scan that finds them through
// GET /v1/audit (which pages by sequence number only), and the CSV and JSON files of them.
import type { AuditEntry } from '../../../kernel/audit.ts'

export interface AuditFilter {
  /** Substring of the actor, any case ('' = any). */
  actor: string
  /** Substring of the action, any case ('' = any). */
  action: string
  /** ISO times, inclusive; null = open. */
  from: string | null
  to: string | null
}

export const NO_FILTER: AuditFilter = { actor: '', action: '', from: null, to: null }

/** A datetime-local field's value ("2026-11-28T06:30") read as UTC; '' → null; a bad value throws. */
export function utcFromField(value: string): string | null {
  const v = value.trim()
  if (!v) return null
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`)
  if (Number.isNaN(d.getTime())) throw new RangeError(`${JSON.stringify(v)} is not a date and time (YYYY-MM-DDTHH:MM)`)
  return d.toISOString()
}

export function matchesAudit(e: AuditEntry, f: AuditFilter): boolean {
  if (f.actor && !e.actor.toLowerCase().includes(f.actor.toLowerCase())) return false
  if (f.action && !e.action.toLowerCase().includes(f.action.toLowerCase())) return false
  const at = Date.parse(e.at)
  if (f.from && at < Date.parse(f.from)) return false
  if (f.to && at > Date.parse(f.to)) return false
  return true
}

/** Reads up to `limit` entries after sequence number `after`, oldest first (GET /v1/audit). */
export type AuditReader = (after: number, limit: number) => Promise<AuditEntry[]>

export interface AuditScan {
  entries: AuditEntry[]
  /** The sequence number of the last entry returned (where the next page starts). */
  last: number
  /** Whether more matches follow, or may (a full batch was read to its end). */
  more: boolean
}

/** Entries per read. */
export const AUDIT_BATCH = 1000

/**
 * The matches after sequence number `after`: at most `want` (every one when null), reading the
 * log in batches. A search with an end time stops at the first batch that ends past it (entries
 * are appended in time order).
 */
export async function scanAudit(
  read: AuditReader,
  filter: AuditFilter,
  after: number,
  want: number | null,
  batchSize = AUDIT_BATCH,
): Promise<AuditScan> {
  const out: AuditEntry[] = []
  let cursor = after
  for (;;) {
    const batch = await read(cursor, batchSize)
    for (const [i, e] of batch.entries()) {
      cursor = e.seq
      if (!matchesAudit(e, filter)) continue
      out.push(e)
      if (want !== null && out.length === want) {
        const more = batch.slice(i + 1).some((x) => matchesAudit(x, filter)) || batch.length === batchSize
        return { entries: out, last: cursor, more }
      }
    }
    if (batch.length < batchSize) return { entries: out, last: cursor, more: false }
    if (filter.to && Date.parse(batch[batch.length - 1]!.at) > Date.parse(filter.to))
      return { entries: out, last: cursor, more: false }
  }
}

export const AUDIT_CSV_COLUMNS = ['seq', 'at', 'actor', 'role', 'action', 'details', 'prevHash', 'hash'] as const

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell a spreadsheet
 * would run as a formula (starting with = + - @, tab or CR) gets a leading apostrophe (OWASP CSV
 * injection).
 */
export function csvCell(value: string | number): string {
  let s = String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The entries as CSV: a header row, then one row each; details as JSON. CRLF line ends. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const rows = [AUDIT_CSV_COLUMNS.join(',')]
  for (const e of entries)
    rows.push(
      [e.seq, e.at, e.actor, e.role, e.action, JSON.stringify(e.details), e.prevHash, e.hash].map(csvCell).join(','),
    )
  return `${rows.join('\r\n')}\r\n`
}

/** The entries as JSON, with the filter that chose them. */
export function auditJson(entries: readonly AuditEntry[], filter: AuditFilter): string {
  return `${JSON.stringify({ filter, count: entries.length, entries }, null, 2)}\n`
}
