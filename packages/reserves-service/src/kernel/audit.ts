import { createHash } from 'node:crypto'
import type { Row, Sql } from './sql.ts'

/** One entry of the append-only audit log. */
export interface AuditEntry {
  seq: number
  at: string
  actor: string
  role: string
  action: string
  details: Record<string, unknown>
  prevHash: string
  hash: string
}

/** The hash before the first entry. */
export const AUDIT_GENESIS = `0x${'00'.repeat(32)}`

/** The hash of an entry: SHA-256 over the previous hash and the entry's canonical JSON. */
export function auditHash(e: Omit<AuditEntry, 'hash'>): string {
  const body = JSON.stringify([e.seq, e.at, e.actor, e.role, e.action, canonical(e.details)])
  return `0x${createHash('sha256').update(e.prevHash).update('\n').update(body).digest('hex')}`
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical)
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    )
  return v
}

function fromRow(r: Row): AuditEntry {
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

/** Appends one entry (inside the caller's transaction when given one); entries are serialized by a lock. */
export async function appendAudit(
  sql: Sql,
  e: { actor: string; role: string; action: string; details?: Record<string, unknown> },
): Promise<AuditEntry> {
  const write = async (tx: Sql) => {
    await tx.query('SELECT pg_advisory_xact_lock(707071)')
    const last = await tx.query('SELECT seq, hash FROM reserves_audit ORDER BY seq DESC LIMIT 1')
    const entry = {
      seq: last[0] ? Number(last[0].seq) + 1 : 1,
      at: new Date().toISOString(),
      actor: e.actor,
      role: e.role,
      action: e.action,
      details: e.details ?? {},
      prevHash: last[0] ? (last[0].hash as string) : AUDIT_GENESIS,
    }
    const full: AuditEntry = { ...entry, hash: auditHash(entry) }
    await tx.query(
      'INSERT INTO reserves_audit (seq, at, actor, role, action, details, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [full.seq, full.at, full.actor, full.role, full.action, JSON.stringify(full.details), full.prevHash, full.hash],
    )
    return full
  }
  return sql.transaction(write)
}

/** Entries after `afterSeq`, oldest first. */
export async function listAudit(sql: Sql, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  const rows = await sql.query('SELECT * FROM reserves_audit WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])
  return rows.map(fromRow)
}

/** The result of checking the chain: ok, or the first entry where it breaks and why. */
export type AuditCheck = { ok: true; count: number; head: string } | { ok: false; seq: number; reason: string }

/**
 * Checks a sequence of entries (oldest first): consecutive sequence numbers from 1 (a deleted row
 * leaves a gap), each `prevHash` the previous hash, each hash recomputed. Deleting the newest
 * rows is only visible against a head hash kept elsewhere (`expectedHead`).
 */
export function verifyAuditChain(entries: AuditEntry[], expectedHead?: string): AuditCheck {
  let prev = AUDIT_GENESIS
  for (const [i, e] of entries.entries()) {
    if (e.seq !== i + 1) return { ok: false, seq: i + 1, reason: `entry ${i + 1} is missing (next is ${e.seq})` }
    if (e.prevHash !== prev) return { ok: false, seq: e.seq, reason: `entry ${e.seq} does not link to entry ${i}` }
    if (auditHash(e) !== e.hash) return { ok: false, seq: e.seq, reason: `entry ${e.seq} was edited (hash mismatch)` }
    prev = e.hash
  }
  if (expectedHead !== undefined && expectedHead !== prev)
    return {
      ok: false,
      seq: entries.length,
      reason: `the chain ends at ${prev}, not the expected head ${expectedHead}`,
    }
  return { ok: true, count: entries.length, head: prev }
}

/** Reads the whole log and checks it. */
export async function verifyStoredAudit(sql: Sql, expectedHead?: string): Promise<AuditCheck> {
  const rows = await sql.query('SELECT * FROM reserves_audit ORDER BY seq')
  return verifyAuditChain(rows.map(fromRow), expectedHead)
}
