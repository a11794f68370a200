// Pruning the audit log without breaking its hash chain. Entries 1…k are deleted together with
// appending a checkpoint entry, `audit.pruned {through: k, head: hash of entry k, count, archive?}`,
// in one transaction under the audit lock. The checkpoint is itself a chained entry (after k), so
// its claim is as tamper-evident as any other entry: the verifier accepts a log starting at entry
// k + 1 only when a later `audit.pruned` entry says exactly "through k, head = entry k+1's prevHash".
// Each new pruning covers the earlier checkpoints (they fall in the pruned range); the newest one
// always follows the range it accounts for.
import { createHash } from 'node:crypto'
import { type AuditCheck, type AuditEntry, appendAudit, auditHash, verifyAuditChain } from '../../kernel/audit.ts'
import type { Row, Sql } from '../../kernel/sql.ts'

/** The audit lock of kernel/audit.ts (appendAudit takes it in its transaction). */
const AUDIT_LOCK = 707071

export const PRUNED_ACTION = 'audit.pruned'

export function auditEntryOf(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    at: new Date(r.at as string).toISOString(),
    actor: r.actor as string,
    role: r.role as string,
    action: r.action as string,
    details: r.details as Record<string, unknown>,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  }
}

/** The outcome of a check, with the pruned prefix it accepted (0: none). */
export type CheckpointedAuditCheck = (AuditCheck & { ok: true; prunedThrough: number }) | (AuditCheck & { ok: false })

/**
 * Checks entries (oldest first) that may start after a pruned prefix: then the first entry must
 * be accounted for by an `audit.pruned` checkpoint further on; from there the chain is checked as
 * {@link verifyAuditChain} does (consecutive seqs, links, recomputed hashes, optional head).
 */
export function verifyCheckpointedChain(entries: AuditEntry[], expectedHead?: string): CheckpointedAuditCheck {
  const first = entries[0]
  if (!first || first.seq === 1) {
    const r = verifyAuditChain(entries, expectedHead)
    return r.ok ? { ...r, prunedThrough: 0 } : r
  }
  const through = first.seq - 1
  const checkpoint = entries.find(
    (e) => e.action === PRUNED_ACTION && e.details.through === through && e.details.head === first.prevHash,
  )
  if (!checkpoint)
    return {
      ok: false,
      seq: 1,
      reason: `entries 1…${through} are missing and no ${PRUNED_ACTION} checkpoint accounts for them`,
    }
  let prev = first.prevHash
  for (const [i, e] of entries.entries()) {
    const want = first.seq + i
    if (e.seq !== want) return { ok: false, seq: want, reason: `entry ${want} is missing (next is ${e.seq})` }
    if (e.prevHash !== prev)
      return { ok: false, seq: e.seq, reason: `entry ${e.seq} does not link to entry ${want - 1}` }
    if (auditHash(e) !== e.hash) return { ok: false, seq: e.seq, reason: `entry ${e.seq} was edited (hash mismatch)` }
    prev = e.hash
  }
  if (expectedHead !== undefined && expectedHead !== prev)
    return {
      ok: false,
      seq: first.seq + entries.length - 1,
      reason: `the chain ends at ${prev}, not the expected head ${expectedHead}`,
    }
  return { ok: true, count: entries.length, head: prev, prunedThrough: through }
}

/** Reads the whole (possibly pruned) log and checks it. */
export async function verifyAuditWithCheckpoint(sql: Sql, expectedHead?: string): Promise<CheckpointedAuditCheck> {
  const rows = await sql.query('SELECT * FROM reserves_audit ORDER BY seq')
  return verifyCheckpointedChain(rows.map(auditEntryOf), expectedHead)
}

/** What one pruning did. */
export interface AuditPruned {
  /** Entries removed (0: nothing was due). */
  count: number
  through: number
  head: string
  /** SHA-256 of the archived JSON lines (null when deleted without an archive). */
  archiveSha256: string | null
}

/**
 * Removes the entries older than `beforeIso` and/or all but the newest `keep` (never the newest
 * entry), writing them first through `archive` (JSON lines) when given, and appends the
 * checkpoint. All in one transaction holding the audit lock: no entry is appended meanwhile.
 */
export async function pruneAudit(
  sql: Sql,
  policy: { keep: number | null; beforeIso: string | null },
  actor: { sub: string; role: string },
  archive: ((first: number, last: number, jsonl: string) => Promise<string>) | null,
): Promise<AuditPruned | null> {
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`)
    const last = await tx.query('SELECT max(seq) AS m FROM reserves_audit')
    const newest = Number(last[0]?.m ?? 0)
    if (newest === 0) return null
    let through = 0
    if (policy.keep !== null) through = Math.max(through, newest - policy.keep)
    if (policy.beforeIso !== null) {
      const r = await tx.query('SELECT max(seq) AS m FROM reserves_audit WHERE at < $1', [policy.beforeIso])
      through = Math.max(through, Number(r[0]?.m ?? 0))
    }
    through = Math.min(through, newest - 1)
    const rows = await tx.query('SELECT * FROM reserves_audit WHERE seq <= $1 ORDER BY seq', [through])
    if (rows.length === 0) return null
    const entries = rows.map(auditEntryOf)
    const head = entries[entries.length - 1]!.hash
    let archiveSha256: string | null = null
    let archiveName: string | null = null
    if (archive) {
      const jsonl = entries.map((e) => `${JSON.stringify(e)}\n`).join('')
      archiveSha256 = createHash('sha256').update(jsonl).digest('hex')
      archiveName = await archive(entries[0]!.seq, through, jsonl)
    }
    await tx.query('DELETE FROM reserves_audit WHERE seq <= $1', [through])
    await appendAudit(tx, {
      actor: actor.sub,
      role: actor.role,
      action: PRUNED_ACTION,
      details: {
        through,
        head,
        count: entries.length,
        from: entries[0]!.seq,
        ...(archiveName ? { archive: archiveName, sha256: archiveSha256 } : {}),
      },
    })
    return { count: entries.length, through, head, archiveSha256 }
  })
}
