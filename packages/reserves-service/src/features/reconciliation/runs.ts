// Reconciliation runs as jobs in the database, like builds (jobs/jobs.ts): scheduled once per
// slot (INSERT … ON CONFLICT (slot) DO NOTHING, so instances asking for the same run make one),
// claimed by one worker with a lease (FOR UPDATE SKIP LOCKED), finished only by the attempt that
// still holds it (`attempts` is the fencing token) — in the transaction that writes the audit entry
// and the outbox events. A run whose worker died is claimed again once its lease runs out.
import { randomBytes } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Row, Sql } from '../../kernel/sql.ts'
import type { ReconciliationResult } from './reconcile.ts'

export type RunState = 'queued' | 'running' | 'ok' | 'shortfall' | 'failed'
export type RunTrigger = 'build' | 'interval' | 'manual'

/** A run as the API shows it. */
export interface ReconciliationRun {
  id: string
  snapshotId: string
  trigger: RunTrigger
  state: RunState
  attempts: number
  /** Why it failed (null unless `failed`). */
  error: string | null
  /** What it found (null unless `ok` or `shortfall`). */
  result: ReconciliationResult | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

/** A run a worker holds. */
export interface ClaimedRun {
  id: string
  snapshotId: string
  trigger: RunTrigger
  /** The fencing token. */
  attempt: number
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())
const MS = "* interval '1 millisecond'"

function runOf(r: Row): ReconciliationRun {
  return {
    id: r.id as string,
    snapshotId: r.snapshot_id as string,
    trigger: r.trigger as RunTrigger,
    state: r.state as RunState,
    attempts: Number(r.attempts),
    error: (r.error as string | null) ?? null,
    result: (r.result as ReconciliationResult | null) ?? null,
    createdAt: iso(r.created_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  }
}

export const runUnknown = (what: string) =>
  new CairnError(ReservesErrorCode.RECONCILIATION_UNKNOWN, what, {
    fault: 'caller',
    hint: 'GET /v1/reconciliations lists the runs',
  })

export class ReconciliationRuns {
  constructor(private readonly sql: Sql) {}

  /**
   * Queues a run of `snapshotId` unless one with this `slot` exists; returns the new run's id or
   * null. `slot` null: a slot of its own (a manual run). Scheduled runs (not `manual`) are only
   * queued while some asset source is declared and enabled: a service that declares none is not
   * told after every build that it has no reserves.
   */
  async enqueue(snapshotId: string, trigger: RunTrigger, slot: string | null, tx?: Sql): Promise<string | null> {
    const id = `rec_${randomBytes(9).toString('hex')}`
    const r = await (tx ?? this.sql).query(
      `INSERT INTO reserves_reconciliations (id, snapshot_id, trigger, slot, state)
       SELECT $1::text, $2::text, $3::text, $4::text, 'queued'
        WHERE $3::text = 'manual' OR EXISTS (SELECT 1 FROM reserves_asset_sources WHERE enabled)
       ON CONFLICT (slot) DO NOTHING RETURNING id`,
      [id, snapshotId, trigger, slot ?? `${trigger}:${id}`],
    )
    return r[0] ? (r[0].id as string) : null
  }

  /**
   * Queues the interval run of the newest built snapshot (while a source is declared) for the current interval of the
   * database's clock (`interval:<n>`, n = ⌊now / intervalMs⌋): every instance asking within one
   * interval gets the same slot, so one run. Null when there is no built snapshot or it is queued.
   */
  async enqueueInterval(intervalMs: number): Promise<string | null> {
    const id = `rec_${randomBytes(9).toString('hex')}`
    const r = await this.sql.query(
      `INSERT INTO reserves_reconciliations (id, snapshot_id, trigger, slot, state)
       SELECT $1::text, s.id, 'interval', 'interval:' || floor(extract(epoch FROM now()) * 1000 / $2::bigint)::bigint, 'queued'
         FROM reserves_snapshots s
        WHERE s.status = 'built' AND EXISTS (SELECT 1 FROM reserves_asset_sources WHERE enabled)
        ORDER BY s.seq DESC LIMIT 1
       ON CONFLICT (slot) DO NOTHING RETURNING id`,
      [id, intervalMs],
    )
    return r[0] ? (r[0].id as string) : null
  }

  /** Claims the oldest queued run, or a running one whose lease ran out; null when none. */
  async claim(owner: string, leaseMs: number): Promise<ClaimedRun | null> {
    const r = await this.sql.query(
      `UPDATE reserves_reconciliations SET state = 'running', attempts = attempts + 1, lease_owner = $1,
              lease_until = now() + $2 ${MS}, started_at = now()
        WHERE id = (
          SELECT id FROM reserves_reconciliations
           WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
           ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, snapshot_id, trigger, attempts`,
      [owner, leaseMs],
    )
    const j = r[0]
    return j
      ? {
          id: j.id as string,
          snapshotId: j.snapshot_id as string,
          trigger: j.trigger as RunTrigger,
          attempt: Number(j.attempts),
        }
      : null
  }

  /**
   * Ends the run with its outcome, in `tx` (with its audit entry and events); false when the lease
   * is no longer this attempt's (another worker took it over: it writes the outcome instead).
   */
  async finish(
    run: ClaimedRun,
    owner: string,
    outcome: { state: 'ok' | 'shortfall'; result: ReconciliationResult } | { state: 'failed'; error: string },
    tx: Sql,
  ): Promise<boolean> {
    const r = await tx.query(
      `UPDATE reserves_reconciliations SET state = $4, result = $5, error = $6, lease_owner = NULL, lease_until = NULL,
              finished_at = now()
        WHERE id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running' RETURNING 1 AS x`,
      [
        run.id,
        run.attempt,
        owner,
        outcome.state,
        outcome.state === 'failed' ? null : JSON.stringify(outcome.result),
        outcome.state === 'failed' ? outcome.error : null,
      ],
    )
    return r.length === 1
  }

  /** Hands a run back untried (the worker is stopping). */
  async release(run: ClaimedRun, owner: string): Promise<void> {
    await this.sql.query(
      `UPDATE reserves_reconciliations SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running'`,
      [run.id, run.attempt, owner],
    )
  }

  /** Makes every running run claimable at once (PGlite: a run still `running` at start was left by a dead process). */
  async releaseAll(): Promise<number> {
    const r = await this.sql.query(
      `UPDATE reserves_reconciliations SET lease_until = now() - interval '1 second' WHERE state = 'running' RETURNING 1 AS x`,
    )
    return r.length
  }

  /** Runs queued or running. */
  async pending(): Promise<number> {
    const r = await this.sql.query(
      `SELECT count(*)::int AS n FROM reserves_reconciliations WHERE state IN ('queued', 'running')`,
    )
    return Number(r[0]?.n ?? 0)
  }

  async get(id: string): Promise<ReconciliationRun> {
    const r = await this.sql.query('SELECT * FROM reserves_reconciliations WHERE id = $1', [id])
    if (!r[0]) throw runUnknown(`reconciliation ${id} does not exist`)
    return runOf(r[0])
  }

  /** Runs newest first, of one snapshot when given. */
  async list(snapshotId: string | null, limit: number): Promise<ReconciliationRun[]> {
    const r = await this.sql.query(
      `SELECT * FROM reserves_reconciliations WHERE $1::text IS NULL OR snapshot_id = $1 ORDER BY seq DESC LIMIT $2`,
      [snapshotId, limit],
    )
    return r.map(runOf)
  }

  /** The newest finished run (ok, shortfall or failed), of one snapshot when given; null when none. */
  async latest(snapshotId: string | null, opts: { completedOnly?: boolean } = {}): Promise<ReconciliationRun | null> {
    const states = opts.completedOnly ? ['ok', 'shortfall'] : ['ok', 'shortfall', 'failed']
    const r = await this.sql.query(
      `SELECT * FROM reserves_reconciliations WHERE ($1::text IS NULL OR snapshot_id = $1) AND state = ANY($2::text[])
        ORDER BY finished_at DESC, seq DESC LIMIT 1`,
      [snapshotId, states],
    )
    return r[0] ? runOf(r[0]) : null
  }
}
