// GDPR access and erasure of one user's personal data.
//
// What the service holds about a user, per snapshot: a row of reserves_users — the lookup key
// HMAC(at-rest key, snapshot ‖ user id), the sealed id, the sealed 32-byte salt and the leaf index —
// and, at that leaf of level 0, the leaf hash H(0x01 ‖ H(0x00 ‖ salt ‖ id) ‖ balances) and the
// balances. Salts are drawn fresh for every snapshot, and leaves placed at random, so one user's
// leaves in two snapshots share nothing that links them without the salts.
//
// Erasure deletes the user's row in every snapshot: the id, the salt and the lookup key are gone
// (crypto-shredded: without the salt no one — the custodian included — can recompute the leaf from
// the id, nor find which leaf was theirs). The leaf hash and its balances stay in the tree: they
// are what the root and every other user's proof commit to, so the published roots and the other
// proofs verify unchanged, and without the row they are tied to no one. A failed snapshot's kept
// build input (sealed, every user's rows) is dropped when it holds the user (it cannot be edited
// in place; such a snapshot is uploaded again). A snapshot still building is named in `pending`:
// erase again once it is built.
//
// Snapshots of one incremental chain (kernel/chain.ts) share the user's row and salt: erasing it
// erases the user from every snapshot of the chain at once, each recorded as erased.

import { createHmac } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { verifyProof } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import { inputHoldsUser } from '../../jobs/build-input.ts'
import { type AtRestKey, open, userKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal } from '../../kernel/auth.ts'
import { placeOf } from '../../kernel/chain.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { auditEntryOf } from './audit-checkpoint.ts'
import { userRef } from './tombstones.ts'

export interface GdprDeps {
  sql: Sql
  key: AtRestKey
  store: SnapshotStore
  clockMs: () => number
}

/** How the audit log names the data subject of an export or erasure: 16 bytes of HMAC(key, "gdpr-subject" ‖ 0 ‖ id), hex. */
export function subjectRef(key: AtRestKey, userId: string): string {
  return createHmac('sha256', key.key).update('gdpr-subject\0').update(userId).digest('hex').slice(0, 32)
}

const USER_ID = /^.{1,256}$/su

function checkUserId(userId: string) {
  if (!USER_ID.test(userId))
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the user id must be 1 to 256 characters', { fault: 'caller' })
}

/** One snapshot's part of an export. */
export interface ExportedLeaf {
  snapshotId: string
  status: string
  createdAt: string
  builtAt: string | null
  hash: string
  root: { hash: string; balances: string[] } | null
  anchor: Record<string, unknown> | null
  /** The audit log's keyed ref of the user in this snapshot. */
  ref: string
  leafIndex: number
  salt: string
  leafHash: string | null
  balances: Record<string, string>
  /** The whole inclusion proof (what GET /v1/snapshots/:id/proof answers the user). */
  proof: unknown
}

export interface UserExport {
  kind: 'cairn-reserves-user-export'
  version: 1
  userId: string
  exportedAt: string
  snapshots: ExportedLeaf[]
  erasures: { snapshotId: string; erasedAt: string }[]
  /** Audit entries naming the user (by one of their refs, or as the actor). */
  auditEntries: unknown[]
}

/** Everything stored about `userId`: their leaf, salt, balances and proof per built snapshot, erasures, audit entries. */
export async function exportUser(d: GdprDeps, userId: string, by: Principal): Promise<UserExport> {
  checkUserId(userId)
  const snaps = await d.sql.query('SELECT id, status FROM reserves_snapshots ORDER BY seq')
  const leaves: ExportedLeaf[] = []
  const refs: string[] = []
  for (const s of snaps) {
    const id = s.id as string
    refs.push(userRef(d.key, id, userId))
    if (s.status !== 'built' || !(await d.store.hasUser(id, userId))) continue
    const info = await d.store.get(id)
    const proof = await d.store.proof(id, userId)
    leaves.push({
      snapshotId: id,
      status: info.status,
      createdAt: info.createdAt,
      builtAt: info.builtAt,
      hash: info.hash,
      root: info.root,
      anchor: info.anchor,
      ref: userRef(d.key, id, userId),
      leafIndex: proof.leafIndex,
      salt: proof.salt,
      leafHash: verifyProof(proof).leafHash ?? null,
      balances: proof.balances,
      proof,
    })
  }
  const erasures = await d.sql.query(
    'SELECT snapshot_id, erased_at FROM reserves_erasures WHERE ref = ANY($1::text[]) ORDER BY seq',
    [refs],
  )
  const audit = await d.sql.query(
    `SELECT * FROM reserves_audit WHERE actor = $1 OR details->'users' ?| $2::text[] ORDER BY seq`,
    [userId, refs],
  )
  const exportedAt = new Date(d.clockMs()).toISOString()
  await appendAudit(d.sql, {
    actor: by.sub,
    role: by.role,
    action: 'user.exported',
    details: { subject: subjectRef(d.key, userId), snapshots: leaves.map((l) => l.snapshotId) },
  })
  return {
    kind: 'cairn-reserves-user-export',
    version: 1,
    userId,
    exportedAt,
    snapshots: leaves,
    erasures: erasures.map((e) => ({
      snapshotId: e.snapshot_id as string,
      erasedAt: new Date(e.erased_at as string).toISOString(),
    })),
    auditEntries: audit.map(auditEntryOf),
  }
}

/** What an erasure did. */
export interface ErasureResult {
  /** Snapshots the user's row was deleted from. */
  erased: { snapshotId: string; ref: string }[]
  /** Failed snapshots whose kept build input (holding the user) was dropped. */
  inputsDropped: string[]
  /** Snapshots still building: erase again once they are built. */
  pending: string[]
  erasedAt: string
}

/** Deletes the user's id, salt and lookup key in every snapshot (see the file comment), audited without the id. */
export async function eraseUser(d: GdprDeps, userId: string, by: Principal, requestId: string): Promise<ErasureResult> {
  checkUserId(userId)
  const erasedAt = new Date(d.clockMs()).toISOString()
  const snaps = await d.sql.query('SELECT id, status, lineage, version FROM reserves_snapshots ORDER BY seq')
  const inputsDropped: string[] = []
  const pending: string[] = []
  // a failed snapshot's kept input is searched outside the transaction, part by part (it may be large)
  for (const s of snaps) {
    const id = s.id as string
    if (s.status === 'building') pending.push(id)
    if (s.status === 'failed' && (await inputHoldsUser(d.sql, d.key, id, userId))) inputsDropped.push(id)
  }
  const erased = await d.sql.transaction(async (tx) => {
    const done: { snapshotId: string; ref: string }[] = []
    /** Per chain, the versions the user was in (from the rows deleted). */
    const spans = new Map<string, [number, number][]>()
    for (const s of snaps) {
      const id = s.id as string
      const { lineage, version } = placeOf(s)
      if (!spans.has(lineage)) {
        const gone = await tx.query(
          'DELETE FROM reserves_users WHERE snapshot_id = $1 AND user_key = $2 RETURNING user_id_enc, added_in, removed_in',
          [lineage, userKey(d.key, lineage, userId)],
        )
        // the row was this user's (a lookup key collision is not a concern of HMAC-SHA256; checked anyway)
        for (const g of gone)
          if (new TextDecoder().decode(open(d.key, g.user_id_enc as Uint8Array, lineage)) !== userId)
            throw new CairnError(ReservesErrorCode.TREE_CORRUPT, `snapshot ${id}: the lookup key names another user`, {
              fault: 'internal',
            })
        spans.set(
          lineage,
          gone.map((g) => [Number(g.added_in), g.removed_in === null ? Infinity : Number(g.removed_in)]),
        )
      }
      if (!spans.get(lineage)!.some(([from, to]) => from <= version && version < to)) continue
      const ref = userRef(d.key, id, userId)
      await tx.query(
        'INSERT INTO reserves_erasures (snapshot_id, ref, erased_at) VALUES ($1, $2, $3) ON CONFLICT (snapshot_id, ref) DO NOTHING',
        [id, ref, erasedAt],
      )
      done.push({ snapshotId: id, ref })
    }
    for (const id of inputsDropped) await tx.query('DELETE FROM reserves_build_input WHERE snapshot_id = $1', [id])
    await appendAudit(tx, {
      actor: by.sub,
      role: by.role,
      action: 'user.erased',
      details: {
        subject: subjectRef(d.key, userId),
        snapshots: done.map((e) => e.snapshotId),
        inputsDropped,
        pending,
        requestId,
      },
    })
    return done
  })
  return { erased, inputsDropped, pending, erasedAt }
}
