// Snapshot builds as jobs in the database: the queue every instance shares. A worker claims the
// oldest claimable job with a lease (FOR UPDATE SKIP LOCKED: two workers never claim the same
// one), renews the lease while it builds, and finishes it in the transaction that marks the
// snapshot built — only while it still holds the lease it claimed (`attempts` is the fencing
// token), so a snapshot is never built twice. A job whose worker died (killed, crashed, lost its
// database) is claimable again once its lease has run out; the next attempt first removes what
// the dead one wrote. Times are the database's (`now()`), so instances' clocks do not matter.

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Row, Sql } from '../kernel/sql.ts'

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

/** A build job as the operator sees it (GET /v1/builds, `cairn reserves builds list`). */
export interface BuildJobInfo {
  snapshotId: string
  state: JobState
  attempts: number
  maxAttempts: number
  leaseOwner: string | null
  leaseUntil: string | null
  /** The lease ran out while `running`: its worker is gone, another will take the job over. */
  stale: boolean
  notBefore: string
  lastError: string | null
  /** Users the current (or last) attempt had stored at its last lease renewal. */
  progress: number
  createdAt: string
  updatedAt: string
}

/** A job a worker holds. */
export interface ClaimedJob {
  snapshotId: string
  /** This attempt's number: the fencing token. */
  attempt: number
  maxAttempts: number
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())

function jobInfo(r: Row): BuildJobInfo {
  return {
    snapshotId: r.snapshot_id as string,
    state: r.state as JobState,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseUntil: iso(r.lease_until),
    stale: r.stale === true,
    notBefore: iso(r.not_before) as string,
    lastError: (r.last_error as string | null) ?? null,
    progress: Number(r.progress ?? 0),
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
  }
}

export const leaseLost = (id: string) =>
  new CairnError(
    ReservesErrorCode.BUILD_LEASE_LOST,
    `the build of ${id} lost its lease (another worker or the operator took it)`,
    {
      fault: 'transient',
    },
  )

const MS = "* interval '1 millisecond'"

export class BuildJobs {
  constructor(private readonly sql: Sql) {}

  /** Queues the build of a snapshot just recorded (in the upload's transaction). */
  async enqueue(id: string, maxAttempts: number, tx?: Sql): Promise<void> {
    await (tx ?? this.sql).query('INSERT INTO reserves_jobs (snapshot_id, state, max_attempts) VALUES ($1, $2, $3)', [
      id,
      'queued',
      maxAttempts,
    ])
  }

  /**
   * Claims the oldest job that is queued and due, or running with an expired lease; null when none.
   * With `graceMs`, only one due (or expired) that long already: a queue (NATS) hands jobs out, and
   * polling takes what it has left behind.
   */
  async claim(owner: string, leaseMs: number, tx?: Sql, graceMs = 0): Promise<ClaimedJob | null> {
    const r = await (tx ?? this.sql).query(
      `UPDATE reserves_jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, progress = 0,
              lease_until = now() + $2 ${MS}, updated_at = now()
        WHERE snapshot_id = (
          SELECT snapshot_id FROM reserves_jobs
           WHERE (state = 'queued' AND not_before <= now() - $3 ${MS})
              OR (state = 'running' AND lease_until < now() - $3 ${MS})
           ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING snapshot_id, attempts, max_attempts`,
      [owner, leaseMs, graceMs],
    )
    const j = r[0]
    return j
      ? { snapshotId: j.snapshot_id as string, attempt: Number(j.attempts), maxAttempts: Number(j.max_attempts) }
      : null
  }

  /**
   * Claims the job of one snapshot (a queue message named it), on the same terms as `claim`: queued
   * and due, or running with an expired lease. Not claimable: `wait` (ms) until it may be (a live
   * lease, or a retry not yet due), or `gone` when nothing is left to build (done, failed,
   * cancelled, unknown). Two claimers of one row: the second re-reads it after the first commits
   * and claims nothing.
   */
  async claimById(
    id: string,
    owner: string,
    leaseMs: number,
    tx?: Sql,
  ): Promise<{ job: ClaimedJob } | { waitMs: number } | { gone: true }> {
    const db = tx ?? this.sql
    const r = await db.query(
      `UPDATE reserves_jobs SET state = 'running', attempts = attempts + 1, lease_owner = $2, progress = 0,
              lease_until = now() + $3 ${MS}, updated_at = now()
        WHERE snapshot_id = $1
          AND ((state = 'queued' AND not_before <= now()) OR (state = 'running' AND lease_until < now()))
        RETURNING snapshot_id, attempts, max_attempts`,
      [id, owner, leaseMs],
    )
    const j = r[0]
    if (j)
      return {
        job: { snapshotId: j.snapshot_id as string, attempt: Number(j.attempts), maxAttempts: Number(j.max_attempts) },
      }
    // the input still being stored (not_before = infinity): look again in a second
    const w = await db.query(
      `SELECT (EXTRACT(EPOCH FROM (CASE WHEN state = 'running' THEN lease_until
                                        WHEN not_before = 'infinity' THEN now() + interval '1 second'
                                        ELSE not_before END) - now()) * 1000)::float8 AS ms
         FROM reserves_jobs WHERE snapshot_id = $1 AND state IN ('queued', 'running')`,
      [id],
    )
    return w[0] ? { waitMs: Math.max(0, Math.ceil(Number(w[0].ms))) } : { gone: true }
  }

  /**
   * A queued job's dispatch key (`<id>:<attempts>:<updated_at ms>`, the queue message's id: two
   * publishes of one queuing are one message, a later requeue is another); null when not queued.
   */
  async dispatchKey(id: string): Promise<string | null> {
    const r = await this.sql.query(
      `SELECT attempts, (EXTRACT(EPOCH FROM updated_at) * 1000)::bigint AS at FROM reserves_jobs
        WHERE snapshot_id = $1 AND state = 'queued'`,
      [id],
    )
    return r[0] ? `${id}:${Number(r[0].attempts)}:${String(r[0].at)}` : null
  }

  /** Renews the lease; false when it is no longer this attempt's (cancelled, or taken over). */
  async renew(job: ClaimedJob, owner: string, leaseMs: number, progress: number): Promise<boolean> {
    const r = await this.sql.query(
      `UPDATE reserves_jobs SET lease_until = now() + $4 ${MS}, progress = $5, updated_at = now()
        WHERE snapshot_id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running' RETURNING 1 AS x`,
      [job.snapshotId, job.attempt, owner, leaseMs, progress],
    )
    return r.length === 1
  }

  /** Ends the job as done, in the transaction that marks its snapshot built; throws when the lease is gone. */
  async complete(job: ClaimedJob, owner: string, tx: Sql): Promise<void> {
    const r = await tx.query(
      `UPDATE reserves_jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE snapshot_id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running' RETURNING 1 AS x`,
      [job.snapshotId, job.attempt, owner],
    )
    if (r.length !== 1) throw leaseLost(job.snapshotId)
  }

  /** An attempt failed: queued again after `retryMs`, or failed for good; false when the lease was gone. */
  async attemptFailed(job: ClaimedJob, owner: string, error: string, retryMs: number | null): Promise<boolean> {
    const r = await this.sql.query(
      `UPDATE reserves_jobs SET state = $4, last_error = $5, lease_owner = NULL, lease_until = NULL,
              not_before = now() + $6 ${MS}, updated_at = now()
        WHERE snapshot_id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running' RETURNING 1 AS x`,
      [job.snapshotId, job.attempt, owner, retryMs === null ? 'failed' : 'queued', error, retryMs ?? 0],
    )
    return r.length === 1
  }

  /** Hands a job back untried (its worker is stopping): queued at once, the attempt not counted. */
  async release(job: ClaimedJob, owner: string): Promise<void> {
    await this.sql.query(
      `UPDATE reserves_jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL,
              not_before = now(), updated_at = now()
        WHERE snapshot_id = $1 AND attempts = $2 AND lease_owner = $3 AND state = 'running'`,
      [job.snapshotId, job.attempt, owner],
    )
  }

  /** Jobs queued or running (a service's `idle()` waits for none). */
  async pending(): Promise<number> {
    const r = await this.sql.query(`SELECT count(*)::int AS n FROM reserves_jobs WHERE state IN ('queued', 'running')`)
    return Number(r[0]?.n ?? 0)
  }

  /** Gives a job up as failed whatever holds it (attempts exhausted, or the operator's cancel). */
  async end(id: string, state: 'failed' | 'cancelled', error: string, tx?: Sql): Promise<boolean> {
    const r = await (tx ?? this.sql).query(
      `UPDATE reserves_jobs SET state = $2, last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE snapshot_id = $1 AND state IN ('queued', 'running') RETURNING 1 AS x`,
      [id, state, error],
    )
    return r.length === 1
  }

  /** Queues a failed or cancelled job again with fresh attempts (the operator's retry). */
  async requeue(id: string, tx?: Sql): Promise<boolean> {
    const r = await (tx ?? this.sql).query(
      `UPDATE reserves_jobs SET state = 'queued', attempts = 0, not_before = now(), last_error = NULL, updated_at = now()
        WHERE snapshot_id = $1 AND state IN ('failed', 'cancelled') RETURNING 1 AS x`,
      [id],
    )
    return r.length === 1
  }

  /**
   * Makes every running job claimable at once: for PGlite, whose datadir only one process opens,
   * a job still `running` when the service starts was left by a process that died.
   */
  async releaseAll(): Promise<number> {
    const r = await this.sql.query(
      `UPDATE reserves_jobs SET lease_until = now() - interval '1 second', updated_at = now() WHERE state = 'running' RETURNING 1 AS x`,
    )
    return r.length
  }

  async get(id: string): Promise<BuildJobInfo | null> {
    const r = await this.sql.query(
      `SELECT *, (state = 'running' AND lease_until < now()) AS stale FROM reserves_jobs WHERE snapshot_id = $1`,
      [id],
    )
    return r[0] ? jobInfo(r[0]) : null
  }

  /** Jobs not done (or all with `all`), oldest first. */
  async list(all = false, limit = 100): Promise<BuildJobInfo[]> {
    const r = await this.sql.query(
      `SELECT *, (state = 'running' AND lease_until < now()) AS stale FROM reserves_jobs
        WHERE $1::boolean OR state <> 'done' ORDER BY created_at LIMIT $2`,
      [all, limit],
    )
    return r.map(jobInfo)
  }
}
