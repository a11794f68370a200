// How a snapshot enters the build queue, whatever its input came from (an upload, a ledger freeze):
// its id is checked first (ids are never reused, a failed one's may be), then the snapshot row,
// its build job and the audit entry go in at once; the sealed input follows in parts (outside the
// transaction, so PGlite's connection is free between them) while the job stays unclaimable
// (`not_before` far ahead); then the job is due, the event recorded, and the builders woken.

import { ReservesErrorCode } from '@cairn/reserves'
import type { Currency } from '@cairn/reserves/verifier'
import { requestFields } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { appendAudit } from '../kernel/audit.ts'
import type { ChainPlace } from '../kernel/chain.ts'
import { recordEvent } from '../kernel/outbox.ts'
import type { Sql } from '../kernel/sql.ts'
import type { SnapshotInfo, SnapshotStore } from '../kernel/store.ts'
import { storeInput } from './build-input.ts'
import type { BuildJobs } from './jobs.ts'

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
  /** An incremental build (chain.ts): its base, and its place (the base's chain, the next version). */
  chain?: { base: string; place: ChainPlace }
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

/**
 * Refuses a base that is not built or that another snapshot (building or built) already follows:
 * a chain grows at its tip only. The base's row is locked, so two requests cannot both pass.
 */
async function checkTip(tx: Sql, base: string): Promise<void> {
  const b = await tx.query(
    'SELECT status, COALESCE(lineage, id) AS lineage, version FROM reserves_snapshots WHERE id = $1 FOR UPDATE',
    [base],
  )
  if (b[0]?.status !== 'built')
    throw new CairnError(ReservesErrorCode.SNAPSHOT_NOT_READY, `snapshot ${base} is ${b[0]?.status ?? 'gone'}`, {
      fault: 'caller',
      hint: 'an incremental build starts from a built snapshot',
    })
  const next = await tx.query(
    `SELECT id FROM reserves_snapshots WHERE COALESCE(lineage, id) = $1 AND version > $2 AND status <> 'failed' ORDER BY version LIMIT 1`,
    [b[0].lineage, b[0].version],
  )
  if (next[0])
    throw new CairnError(
      ReservesErrorCode.SNAPSHOT_EXISTS,
      `snapshot ${next[0].id} already follows ${base} in its chain`,
      {
        fault: 'caller',
        hint: `build from the chain's newest snapshot, or in full (POST /v1/snapshots)`,
        meta: { next: next[0].id },
      },
    )
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
    if (s.chain) await checkTip(tx, s.chain.base)
    await d.store.create(
      { id: s.id, hash: s.hash, currencies: s.currencies, minDepth: s.minDepth, userCount: s.users },
      tx,
      s.chain,
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
