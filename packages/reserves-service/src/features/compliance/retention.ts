// The retention job: on an interval (and on request), removes the snapshots and audit entries the
// policy no longer keeps.
//
// A snapshot is due when it is outside any configured limit (not among the newest `keep` built
// snapshots — a failed one: older than the keep-th newest built — or created more than
// `maxAgeDays` before the injected clock's now). Never retired, whatever the policy: the newest
// built snapshot (the one published), the newest anchored one, and any snapshot a reconciliation
// is queued or running for. A built snapshot is retired by writing its leaves and manifest to the
// archive directory (mode archive; see archive.ts), then marking it `archived` | `deleted` with its
// audit entry in one transaction — the row stays (id, root, totals, anchor) — and removing its
// users and tree levels. A failed snapshot (never published, nothing to archive) is deleted whole.
// Audit entries are pruned with a checkpoint (audit-checkpoint.ts). Instances racing on the same
// snapshot write the same archive files; the conditional UPDATE lets one of them retire it.
import type { Logger } from '@cairn/utils'
import { appendAudit } from '../../kernel/audit.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { archiveAudit, archiveSnapshot } from './archive.ts'
import { type AuditPruned, pruneAudit } from './audit-checkpoint.ts'
import type { ComplianceMetrics } from './metrics.ts'
import type { RetentionOptions } from './options.ts'
import type { Tombstones } from './tombstones.ts'

const DAY_MS = 86_400_000

/** What one run did. */
export interface RetentionRun {
  at: string
  retired: { id: string; status: 'archived' | 'deleted'; manifest: string | null }[]
  /** Due by the policy but protected. */
  kept: { id: string; reason: string }[]
  audit: AuditPruned | null
}

export interface RetentionModules {
  sql: Sql
  store: SnapshotStore
  logger: Logger
  metrics: ComplianceMetrics
  clockMs: () => number
  tombstones: Tombstones | null
}

/** Who the job's audit entries name. */
const JOB = { sub: 'retention', role: 'system' }

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<RetentionRun> | null = null
  /** The last run's outcome (null before the first). */
  last: RetentionRun | null = null

  constructor(
    readonly opts: RetentionOptions,
    private readonly modules: RetentionModules,
  ) {}

  start(): void {
    const tick = () => {
      this.runOnce()
        .catch(() => {})
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs).unref()
        })
    }
    this.timer = setTimeout(tick, this.opts.intervalMs).unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running?.catch(() => {})
  }

  /** One run now (a run already under way is joined, not doubled). */
  runOnce(by: { sub: string; role: string } = JOB): Promise<RetentionRun> {
    this.running ??= this.run(by)
      .then((r) => {
        this.last = r
        return r
      })
      .catch((err: unknown) => {
        this.modules.metrics.retentionFailures.inc()
        this.modules.logger.error({ err }, 'retention run failed (retried at the next interval)')
        throw err
      })
      .finally(() => {
        this.running = null
      })
    return this.running
  }

  private async run(by: { sub: string; role: string }): Promise<RetentionRun> {
    const { sql, metrics, logger } = this.modules
    const now = this.modules.clockMs()
    const at = new Date(now).toISOString()
    const out: RetentionRun = { at, retired: [], kept: [], audit: null }
    await this.finishInterrupted()
    for (const due of await this.dueSnapshots(now)) {
      if (due.protectedBy) {
        out.kept.push({ id: due.id, reason: due.protectedBy })
        continue
      }
      const r = await this.retire(due.id, due.status, at, by)
      if (!r) continue
      out.retired.push(r)
      metrics.retentionRemoved.inc({ kind: 'snapshot' })
      logger.info({ id: r.id, status: r.status, manifest: r.manifest }, 'retention: snapshot retired')
    }
    const a = this.opts.audit
    if (a.keep !== null || a.maxAgeDays !== null) {
      const archive = this.opts.mode === 'archive' && this.opts.archiveDir ? this.opts.archiveDir : null
      out.audit = await pruneAudit(
        sql,
        { keep: a.keep, beforeIso: a.maxAgeDays === null ? null : new Date(now - a.maxAgeDays * DAY_MS).toISOString() },
        by,
        archive ? (first, last, jsonl) => archiveAudit(archive, first, last, jsonl) : null,
      )
      if (out.audit) {
        metrics.retentionRemoved.inc({ kind: 'audit_entry' }, out.audit.count)
        logger.info({ count: out.audit.count, through: out.audit.through }, 'retention: audit entries pruned')
      }
    }
    return out
  }

  /** The snapshots the policy no longer keeps, newest first, each with what protects it (if anything). */
  async dueSnapshots(now: number): Promise<{ id: string; status: 'built' | 'failed'; protectedBy: string | null }[]> {
    const { keep, maxAgeDays } = this.opts.snapshots
    if (keep === null && maxAgeDays === null) return []
    const rows = await this.modules.sql.query(
      `SELECT id, seq, status, created_at, anchor IS NOT NULL AS anchored FROM reserves_snapshots
        WHERE status IN ('built', 'failed') ORDER BY seq DESC`,
    )
    const built = rows.filter((r) => r.status === 'built')
    const open = new Set(
      (
        await this.modules.sql.query(
          `SELECT DISTINCT snapshot_id FROM reserves_reconciliations WHERE state IN ('queued', 'running')`,
        )
      ).map((r) => r.snapshot_id as string),
    )
    const newestAnchored = built.find((r) => r.anchored === true)
    const keptSeq = keep !== null && built.length >= keep ? Number(built[keep - 1]!.seq) : null
    const cutoff = maxAgeDays === null ? null : now - maxAgeDays * DAY_MS
    const due: { id: string; status: 'built' | 'failed'; protectedBy: string | null }[] = []
    for (const r of rows) {
      const id = r.id as string
      const byCount = keptSeq !== null && Number(r.seq) < keptSeq
      const byAge = cutoff !== null && new Date(r.created_at as string).getTime() < cutoff
      if (!byCount && !byAge) continue
      let protectedBy: string | null = null
      if (r === built[0]) protectedBy = 'the newest built snapshot (the published one)'
      else if (r === newestAnchored) protectedBy = 'the newest anchored snapshot'
      else if (open.has(id)) protectedBy = 'a reconciliation of it is queued or running'
      due.push({ id, status: r.status as 'built' | 'failed', protectedBy })
    }
    return due
  }

  private async retire(
    id: string,
    status: 'built' | 'failed',
    at: string,
    by: { sub: string; role: string },
  ): Promise<RetentionRun['retired'][number] | null> {
    const { sql, store } = this.modules
    if (status === 'failed') {
      await store.remove(id)
      await appendAudit(sql, {
        actor: by.sub,
        role: by.role,
        action: 'snapshot.retired',
        details: { id, status: 'deleted', was: 'failed' },
      })
      return { id, status: 'deleted', manifest: null }
    }
    const s = await store.get(id)
    const dir = this.opts.mode === 'archive' ? this.opts.archiveDir : null
    let archived: { manifest: string; leavesSha256: string } | null = null
    if (dir) {
      const recs = await sql.query('SELECT * FROM reserves_reconciliations WHERE snapshot_id = $1 ORDER BY seq', [id])
      archived = await archiveSnapshot(dir, store, s, recs, at)
    }
    const next = archived ? 'archived' : 'deleted'
    const retired = { mode: this.opts.mode, at, ...(archived ?? {}) }
    const claimed = await sql.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE reserves_snapshots SET status = $2, retired = $3 WHERE id = $1 AND status = 'built' RETURNING id`,
        [id, next, JSON.stringify(retired)],
      )
      if (r.length === 0) return false
      await appendAudit(tx, {
        actor: by.sub,
        role: by.role,
        action: 'snapshot.retired',
        details: { id, status: next, root: s.root?.hash ?? null, ...(archived ?? {}) },
      })
      return true
    })
    if (!claimed) return null
    this.modules.tombstones?.addRetired(id, { status: next, at })
    await store.retireRows(id)
    await sql.query('DELETE FROM reserves_build_input WHERE snapshot_id = $1', [id])
    return { id, status: next, manifest: archived?.manifest ?? null }
  }

  /** Removes the rows a run interrupted after marking a snapshot retired left behind. */
  private async finishInterrupted(): Promise<void> {
    const left = await this.modules.sql.query(
      `SELECT s.id FROM reserves_snapshots s WHERE s.status IN ('archived', 'deleted')
          AND (EXISTS (SELECT 1 FROM reserves_users u WHERE u.snapshot_id = s.id)
            OR EXISTS (SELECT 1 FROM reserves_levels l WHERE l.snapshot_id = s.id))`,
    )
    for (const r of left) await this.modules.store.retireRows(r.id as string)
  }
}
