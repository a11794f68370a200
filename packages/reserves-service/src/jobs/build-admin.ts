// The operator's two actions on a build, shared by the routes (POST /v1/builds/:id/cancel|retry)
// and the CLI (`cairn reserves builds cancel|retry`, straight on the database).

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import { appendAudit } from '../kernel/audit.ts'
import { recordEvent } from '../kernel/outbox.ts'
import type { Sql } from '../kernel/sql.ts'
import type { SnapshotStore } from '../kernel/store.ts'
import type { BuildJobInfo, BuildJobs } from './jobs.ts'

async function jobOf(jobs: BuildJobs, id: string): Promise<BuildJobInfo> {
  const j = await jobs.get(id)
  if (!j)
    throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `no build job for snapshot ${id}`, { fault: 'caller' })
  return j
}

/**
 * Cancels a queued or running build: the job ends `cancelled`, the snapshot `failed` with its rows
 * removed (its id may be uploaded again). A worker still building it loses its lease at its next
 * renewal, stops, and removes what it wrote since.
 */
export async function cancelBuild(
  m: { sql: Sql; jobs: BuildJobs; store: SnapshotStore },
  id: string,
  by: { sub: string; role: string },
): Promise<BuildJobInfo> {
  await jobOf(m.jobs, id)
  const error = `cancelled by ${by.sub}`
  // the job, the snapshot's status, the audit entry and the webhook event at once; then the rows
  const ended = await m.sql.transaction(async (tx) => {
    if (!(await m.jobs.end(id, 'cancelled', error, tx))) return false
    await m.store.setFailed(id, error, tx)
    await appendAudit(tx, { actor: by.sub, role: by.role, action: 'build.cancelled', details: { id } })
    await recordEvent(tx, 'snapshot.failed', { snapshotId: id, error })
    return true
  })
  if (!ended)
    throw new CairnError(ReservesErrorCode.BUILD_STATE, `the build of ${id} is neither queued nor running`, {
      fault: 'caller',
      hint: 'GET /v1/builds/:id (or cairn reserves builds list --all) shows its state',
    })
  await m.store.removeRows(id)
  return jobOf(m.jobs, id)
}

/** Queues a failed or cancelled build again (fresh attempts) from its stored input. */
export async function retryBuild(
  m: { sql: Sql; jobs: BuildJobs },
  id: string,
  by: { sub: string; role: string },
): Promise<BuildJobInfo> {
  await jobOf(m.jobs, id)
  const hasInput =
    (await m.sql.query('SELECT 1 AS x FROM reserves_build_input WHERE snapshot_id = $1 LIMIT 1', [id])).length > 0
  if (!hasInput)
    throw new CairnError(
      ReservesErrorCode.BUILD_STATE,
      `the input of ${id} is gone (dropped when it failed for good)`,
      {
        fault: 'caller',
        hint: 'upload the snapshot again with the same id',
      },
    )
  const ok = await m.sql.transaction(async (tx) => {
    if (!(await m.jobs.requeue(id, tx))) return false
    await tx.query(`UPDATE reserves_snapshots SET status = 'building', error = NULL WHERE id = $1`, [id])
    await appendAudit(tx, { actor: by.sub, role: by.role, action: 'build.retried', details: { id } })
    return true
  })
  if (!ok)
    throw new CairnError(ReservesErrorCode.BUILD_STATE, `the build of ${id} is not failed or cancelled`, {
      fault: 'caller',
    })
  return jobOf(m.jobs, id)
}
