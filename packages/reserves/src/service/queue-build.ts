// How a snapshot enters the build queue, whatever its input came from (an upload, a ledger freeze):
// its id is checked first (ids are never reused, a failed one's may be), then the snapshot row,
// its build job and the audit entry go in at once; the sealed input follows in parts (outside the
// transaction, so PGlite's connection is free between them) while the job stays unclaimable
// (`not_before` far ahead); then the job is due, the event recorded, and the builders woken.
import { requestFields } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { Currency } from '../verifier/proof.ts'
import { recordEvent } from '../webhooks/outbox.ts'
import { appendAudit } from './audit.ts'
import { storeInput } from './build-input.ts'
import type { BuildJobs } from './jobs.ts'
import type { Sql } from './sql.ts'
import type { SnapshotInfo, SnapshotStore } from './store.ts'

export interface QueueBuildDeps {
  sql: Sql
  store: SnapshotStore
  jobs: BuildJobs
  maxAttempts: number
  logger: Logger
  /** Wakes this instance's builder and tells the others (job.queued). */
  queued: (id: string) => void
}

export interface QueuedSnapshot {
  id: string
  hash: string
  minDepth: number
  currencies: Currency[]
  users: number
  /** The input, sealed in parts for this id (build-input.ts). */
  parts: Uint8Array[]
  /** Added to the audit entry (what the input came from). */
  details?: Record<string, unknown>
}

/** Refuses an id in use (building or built); returns the failed snapshot it replaces, if any. */
export async function checkNewId(store: SnapshotStore, id: string): Promise<SnapshotInfo | null> {
  const existing = await store.find(id)
  if (existing && existing.status !== 'failed')
    throw new CairnError(ReservesErrorCode.SNAPSHOT_EXISTS, `snapshot ${id} exists already (${existing.status})`, {
      fault: 'caller',
      hint:
        existing.status === 'building'
          ? 'its build is queued or running: GET /v1/builds/:id shows it, POST /v1/builds/:id/cancel stops it'
          : 'choose another id',
    })
  return existing
}

/** Creates the snapshot and queues its build (see the file's header). */
export async function queueBuild(
  d: QueueBuildDeps,
  who: { actor: string; role: string; requestId: string },
  s: QueuedSnapshot,
  replaces: SnapshotInfo | null,
): Promise<void> {
  if (replaces) await d.store.remove(s.id)
  await d.sql.transaction(async (tx) => {
    await d.store.create(
      { id: s.id, hash: s.hash, currencies: s.currencies, minDepth: s.minDepth, userCount: s.users },
      tx,
    )
    await d.jobs.enqueue(s.id, d.maxAttempts, tx)
    await tx.query(`UPDATE reserves_jobs SET not_before = 'infinity' WHERE snapshot_id = $1`, [s.id])
    const details = { id: s.id, users: s.users, hash: s.hash, requestId: who.requestId, ...s.details }
    await appendAudit(tx, { actor: who.actor, role: who.role, action: 'snapshot.created', details })
  })
  try {
    await storeInput(d.sql, s.id, s.parts)
  } catch (err) {
    await d.store.remove(s.id).catch(() => {})
    throw err
  }
  await d.sql.transaction(async (tx) => {
    await tx.query(`UPDATE reserves_jobs SET not_before = now() WHERE snapshot_id = $1`, [s.id])
    await recordEvent(tx, 'snapshot.created', {
      snapshotId: s.id,
      users: s.users,
      hash: s.hash,
      currencies: s.currencies,
    })
  })
  d.logger.info({ id: s.id, users: s.users, ...requestFields(who.requestId) }, 'snapshot queued for building')
  d.queued(s.id)
}
