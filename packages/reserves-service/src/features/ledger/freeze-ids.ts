// A ledger freeze's id is reserved before anything is cut (schema.ts, migration 10), so that a
// repeat of the id — a client's retry after a timeout, a second operator — never cuts the ledger
// again: it gets the first freeze's answer (same parameters, once the first is done), 409 "in
// progress" (until then) or 409 "other parameters". The rules are those of idempotency keys
// (IETF draft-ietf-httpapi-idempotency-key-header: a repeat while the first runs is a 409).
import { createHash } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Sql } from '../../kernel/sql.ts'

/** What a freeze answered (202), replayed to a repeat with the same parameters. */
export type FreezeAnswer = Record<string, unknown>

/**
 * How long a reservation without an answer holds its id: past it, the freeze is taken for dead
 * (its process stopped while cutting) and a repeat freezes anew. A freeze of a million users
 * takes seconds; ten minutes is far beyond any live one.
 */
export const FREEZE_ID_LEASE_MS = 10 * 60_000

/** The hash of a freeze's parameters (after defaults: `{"hash":"sha256"}` and `{}` are one freeze). */
export function freezeRequestHash(params: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)))
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex')
}

/**
 * Reserves `id` for a freeze with parameters `requestHash`: `{ replay }` is the answer of the
 * freeze that already took this id with these parameters; `null` means the id is this request's
 * now (a new id, one whose freeze failed, whose snapshot failed or is gone, or whose freeze was
 * abandoned past the lease).
 * @throws CairnError `RESERVES_LEDGER_CONFLICT` (409): in progress, or used with other parameters
 */
export async function reserveFreezeId(
  sql: Sql,
  id: string,
  requestHash: string,
  nowMs: number,
): Promise<{ replay: FreezeAnswer } | null> {
  const at = new Date(nowMs).toISOString()
  return sql.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO reserves_ledger_freeze_ids (id, request_hash, answer, reserved_at) VALUES ($1, $2, NULL, $3)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, requestHash, at],
    )
    if (inserted.length > 0) return null
    const [row] = await tx.query(
      'SELECT request_hash, answer, reserved_at FROM reserves_ledger_freeze_ids WHERE id = $1 FOR UPDATE',
      [id],
    )
    if (!row) throw new CairnError(ReservesErrorCode.STORAGE_FAILED, `freeze id ${id} vanished while reserved`)
    const retake = async () => {
      await tx.query(
        'UPDATE reserves_ledger_freeze_ids SET request_hash = $2, answer = NULL, reserved_at = $3 WHERE id = $1',
        [id, requestHash, at],
      )
      return null
    }
    if (row.answer !== null) {
      // A freeze whose snapshot failed (or was deleted) leaves its id free, as an upload's.
      const [snap] = await tx.query('SELECT status FROM reserves_snapshots WHERE id = $1', [id])
      if (!snap || snap.status === 'failed') return retake()
    } else if (nowMs - new Date(row.reserved_at as string).getTime() > FREEZE_ID_LEASE_MS) return retake()
    if (row.request_hash !== requestHash)
      throw new CairnError(ReservesErrorCode.LEDGER_CONFLICT, `freeze id ${id} was used with other parameters`, {
        fault: 'caller',
        hint: 'send the first request again to get its answer, or choose a new id for another freeze',
      })
    if (row.answer === null)
      throw new CairnError(ReservesErrorCode.LEDGER_CONFLICT, `freeze ${id} is in progress`, {
        fault: 'caller',
        hint: 'send the same request again shortly: once the freeze is done it answers what the freeze answered',
        meta: { inProgress: true },
      })
    return { replay: row.answer as FreezeAnswer }
  })
}

/** Records the answer of the freeze that holds `id` (replayed to its repeats). */
export async function answerFreezeId(sql: Sql, id: string, answer: FreezeAnswer): Promise<void> {
  await sql.query('UPDATE reserves_ledger_freeze_ids SET answer = $2 WHERE id = $1', [id, JSON.stringify(answer)])
}

/** Frees `id` after its freeze failed (nothing was queued under it), for a later freeze. */
export async function releaseFreezeId(sql: Sql, id: string): Promise<void> {
  await sql.query('DELETE FROM reserves_ledger_freeze_ids WHERE id = $1 AND answer IS NULL', [id])
}
