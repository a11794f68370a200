// The next snapshot of a chain, built incrementally from a built base and the balances that changed
// (docs/reserves/incremental.md, kernel/chain.ts): the base checked, the changes sealed and queued.
// The route is the snapshots feature's (features/snapshots/next-route.ts); a ledger freeze with a
// base takes the same path.
import { randomBytes } from 'node:crypto'
import { ReservesErrorCode, type SetChange } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { AtRestKey } from '../kernel/at-rest.ts'
import { placeOf } from '../kernel/chain.ts'
import type { SnapshotInfo } from '../kernel/store.ts'
import { sealChanges } from './build-input.ts'
import { checkNewId, type QueueBuildDeps, queueBuild } from './queue-build.ts'

/** Snapshot `baseId`, refused unless it is built (an incremental build starts from it). */
export async function builtBase(q: QueueBuildDeps, baseId: string): Promise<SnapshotInfo> {
  const base = await q.store.get(baseId)
  if (base.status !== 'built')
    throw new CairnError(ReservesErrorCode.SNAPSHOT_NOT_READY, `snapshot ${baseId} is ${base.status}`, {
      fault: base.status === 'building' ? 'transient' : 'caller',
      hint: 'an incremental build starts from a built snapshot',
    })
  return base
}

/**
 * Queues the next snapshot of `base`'s chain, built from `changes` (balances in the base's currency
 * order; null: removed): refuses an id in use and a chain a user was erased from; the tip check is
 * queueBuild's, under the base row's lock. Returns the new snapshot's id. Also the path of a ledger
 * freeze with a base (features/ledger/routes.ts).
 */
export async function queueNext(
  d: { key: AtRestKey; queue: QueueBuildDeps },
  who: { actor: string; role: string; requestId: string },
  base: SnapshotInfo,
  wanted: string | undefined,
  changes: readonly SetChange[],
  details: Record<string, unknown>,
): Promise<string> {
  const { store, sql } = d.queue
  const baseId = base.id
  const id = wanted ?? `snap-${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`
  const replaces = await checkNewId(store, id)
  const rows = await sql.query('SELECT id, lineage, version FROM reserves_snapshots WHERE id = $1', [baseId])
  const basePlace = placeOf(rows[0]!)
  const erased = await sql.query(
    `SELECT 1 AS x FROM reserves_erasures e JOIN reserves_snapshots s ON s.id = e.snapshot_id
      WHERE COALESCE(s.lineage, s.id) = $1 LIMIT 1`,
    [basePlace.lineage],
  )
  if (erased.length > 0)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `a user was erased from the chain of ${baseId}`, {
      fault: 'caller',
      hint: 'build the next snapshot in full (POST /v1/snapshots): an erased user’s leaf cannot be found to update',
    })
  await queueBuild(
    d.queue,
    who,
    {
      id,
      hash: base.hash,
      minDepth: base.minDepth,
      currencies: base.currencies,
      users: changes.length,
      parts: sealChanges(d.key, id, changes),
      details,
      chain: { base: baseId, place: { lineage: basePlace.lineage, version: basePlace.version + 1 } },
    },
    replaces,
  )
  return id
}
