// The live ledger's storage (schema.ts): users' current balances, changed a batch at a time
// under the state row's lock, and cut for a snapshot. Ids and balances are sealed at rest (bound
// to the row's lookup key); the database never holds them in the clear.
import { createHash } from 'node:crypto'
import type { LiabilityEntry, RowError } from '@cairn/reserves'
import { ReservesErrorCode } from '@cairn/reserves'
import type { Currency } from '@cairn/reserves/verifier'
import { isU128, parseAmount } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import { type AtRestKey, open, seal, userKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Sql } from '../../kernel/sql.ts'

/** One change, as the API takes it: amounts are decimal strings in the currency's smallest unit. */
export type LedgerChange =
  | { userId: string; balances: Record<string, string> }
  | { userId: string; deltas: Record<string, string> }
  | { userId: string; remove: true }

/** A user changed since a freeze: current balances (in the ledger's currency order), or null: removed. */
export interface LedgerCutChange {
  userId: string
  balances: bigint[] | null
}

/** What a batch did (also the answer replayed for its idempotency key). */
export interface LedgerAnswer {
  seq: number
  changed: number
  added: number
  removed: number
}

/** Lists the refused changes of a batch, all of them (the batch is applied whole or not at all). */
export const MAX_REFUSALS = 100

const LEDGER = 'ledger'
const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s.replace(/\n/g, ''), 'base64'))
const enc = new TextEncoder()
const dec = new TextDecoder()

/** The signed delta or plain amount `text` as a bigint (null: not an integer). */
function signed(text: string): bigint | null {
  const neg = text.startsWith('-')
  const v = parseAmount(neg || text.startsWith('+') ? text.slice(1) : text)
  return v === null ? null : neg ? -v : v
}

export class LedgerStore {
  constructor(
    private readonly sql: Sql,
    private readonly key: AtRestKey,
  ) {}

  /** The database, for an audit entry outside a batch. */
  get sqlHandle(): Sql {
    return this.sql
  }

  private ref(userId: string): Uint8Array {
    return userKey(this.key, LEDGER, userId)
  }

  private aad(ref: Uint8Array, what: 'id' | 'balances'): string {
    return `reserves-ledger:${b64(ref)}:${what}`
  }

  /** The currencies (null until set), the last batch's number and how many users hold a row. */
  async state(): Promise<{ currencies: Currency[] | null; seq: number; users: number }> {
    const [s] = await this.sql.query('SELECT currencies, seq FROM reserves_ledger_state')
    const [n] = await this.sql.query('SELECT count(*)::int AS n FROM reserves_ledger')
    return { currencies: (s?.currencies as Currency[] | null) ?? null, seq: Number(s?.seq ?? 0), users: Number(n?.n) }
  }

  /** Sets the currencies; refused (409) once balances are held in another list. */
  async setCurrencies(currencies: Currency[], actor: { sub: string; role: string }): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const [s] = await tx.query('SELECT currencies FROM reserves_ledger_state FOR UPDATE')
      const old = (s?.currencies as Currency[] | null) ?? null
      if (old && JSON.stringify(old) === JSON.stringify(currencies)) return
      const [n] = await tx.query('SELECT count(*)::int AS n FROM reserves_ledger')
      if (old && Number(n?.n) > 0)
        throw new CairnError(ReservesErrorCode.LEDGER_CONFLICT, 'the ledger holds balances in other currencies', {
          fault: 'caller',
          hint: `its currencies are ${old.map((c) => `${c.symbol}:${c.decimals}`).join(',')}; they change only while it is empty`,
        })
      await tx.query('UPDATE reserves_ledger_state SET currencies = $1', [JSON.stringify(currencies)])
      await appendAudit(tx, {
        actor: actor.sub,
        role: actor.role,
        action: 'ledger.currencies',
        details: { currencies: currencies.map((c) => `${c.symbol}:${c.decimals}`) },
      })
    })
  }

  /** A user's current balances by currency symbol (null: no row). */
  async balances(userId: string): Promise<{ balances: Record<string, string>; version: number } | null> {
    const [s] = await this.sql.query('SELECT currencies FROM reserves_ledger_state')
    const currencies = (s?.currencies as Currency[] | null) ?? []
    const ref = this.ref(userId)
    const [r] = await this.sql.query(
      `SELECT encode(balances_enc, 'base64') AS b, version FROM reserves_ledger WHERE user_key = decode($1, 'base64')`,
      [b64(ref)],
    )
    if (!r) return null
    const values = JSON.parse(dec.decode(open(this.key, fromB64(r.b as string), this.aad(ref, 'balances')))) as string[]
    return {
      balances: Object.fromEntries(currencies.map((c, i) => [c.symbol, values[i] ?? '0'])),
      version: Number(r.version),
    }
  }

  /**
   * Applies a batch, whole or not at all, as the next `seq`. With an idempotency key, a batch seen
   * before answers what it answered then (`replayed`), and the key with another body is a 409.
   */
  async apply(
    changes: readonly LedgerChange[],
    meta: { actor: string; role: string; requestId: string; idempotencyKey?: string | undefined; at: Date },
  ): Promise<LedgerAnswer & { replayed: boolean }> {
    const requestHash = createHash('sha256').update(JSON.stringify(changes)).digest('hex')
    return this.sql.transaction(async (tx) => {
      const [s] = await tx.query('SELECT currencies, seq FROM reserves_ledger_state FOR UPDATE')
      if (meta.idempotencyKey !== undefined) {
        const [seen] = await tx.query(
          'SELECT request_hash, answer FROM reserves_ledger_requests WHERE idempotency_key = $1',
          [meta.idempotencyKey],
        )
        if (seen) {
          if (seen.request_hash !== requestHash)
            throw new CairnError(
              ReservesErrorCode.LEDGER_CONFLICT,
              `idempotency key ${meta.idempotencyKey} was used for another batch`,
              { fault: 'caller', hint: 'send a new key for a new batch; resend the same body to replay' },
            )
          return { ...(seen.answer as LedgerAnswer), replayed: true }
        }
      }
      const currencies = (s?.currencies as Currency[] | null) ?? null
      if (!currencies)
        throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the ledger has no currencies yet', {
          fault: 'caller',
          hint: 'set them first: PUT /v1/ledger/currencies {"currencies":[{"symbol":"BTC","decimals":8}]}',
        })
      const seq = Number(s?.seq ?? 0) + 1
      const refs = changes.map((c) => this.ref(c.userId))
      const rows = await tx.query(
        `SELECT encode(user_key, 'base64') AS k, encode(balances_enc, 'base64') AS b FROM reserves_ledger
          WHERE user_key IN (SELECT decode(x, 'base64') FROM unnest($1::text[]) AS t(x))`,
        [refs.map(b64)],
      )
      const held = new Map(rows.map((r) => [(r.k as string).replace(/\n/g, ''), r.b as string]))
      const errors: RowError[] = []
      let errorCount = 0
      const refuse = (i: number, reason: string) => {
        errorCount++
        if (errors.length < MAX_REFUSALS) errors.push({ line: i + 1, reason })
      }
      const index = new Map(currencies.map((c, i) => [c.symbol, i]))
      const upserts: { ref: Uint8Array; userId: string; values: bigint[] }[] = []
      const removes: { ref: Uint8Array; userId: string }[] = []
      let added = 0
      const seen = new Set<string>()
      for (const [i, c] of changes.entries()) {
        const ref = refs[i] as Uint8Array
        if (seen.has(c.userId)) {
          refuse(i, `user ${c.userId} is changed twice in the batch`)
          continue
        }
        seen.add(c.userId)
        const had = held.get(b64(ref))
        const old =
          had === undefined
            ? null
            : (JSON.parse(dec.decode(open(this.key, fromB64(had), this.aad(ref, 'balances')))) as string[]).map(BigInt)
        if ('remove' in c) {
          if (old === null) refuse(i, `user ${c.userId} holds no balance to remove`)
          else removes.push({ ref, userId: c.userId })
          continue
        }
        const amounts = 'deltas' in c ? c.deltas : c.balances
        const next: bigint[] = 'deltas' in c ? (old ?? currencies.map(() => 0n)).slice() : currencies.map(() => 0n)
        let bad = false
        for (const [symbol, text] of Object.entries(amounts)) {
          const at = index.get(symbol)
          const v = 'deltas' in c ? signed(text) : parseAmount(text)
          if (at === undefined) {
            refuse(i, `${symbol} is not a currency of the ledger`)
            bad = true
          } else if (v === null) {
            refuse(i, `${symbol} ${JSON.stringify(text)} is not ${'deltas' in c ? 'a signed' : 'an'} integer amount`)
            bad = true
          } else next[at] = (next[at] as bigint) + v
        }
        if (bad) continue
        const out = next.findIndex((v) => !isU128(v))
        if (out >= 0) {
          refuse(i, `user ${c.userId}: ${currencies[out]?.symbol} would be ${next[out]} (balances stay in [0, 2^128))`)
          continue
        }
        if (old === null) added++
        upserts.push({ ref, userId: c.userId, values: next })
      }
      if (errorCount > 0)
        throw new CairnError(
          ReservesErrorCode.INPUT_INVALID,
          `the batch has ${errorCount} refused change(s): ${errors
            .slice(0, 3)
            .map((e) => `change ${e.line}: ${e.reason}`)
            .join('; ')}${errorCount > 3 ? '; …' : ''}`,
          {
            fault: 'caller',
            meta: { errorCount, errors },
            hint: 'nothing was applied; fix the listed changes and send the batch again',
          },
        )
      if (upserts.length > 0)
        await tx.query(
          `INSERT INTO reserves_ledger (user_key, key_id, user_id_enc, balances_enc, version, updated_at)
           SELECT decode(k, 'base64'), $1, decode(i, 'base64'), decode(b, 'base64'), $2, $3
             FROM unnest($4::text[], $5::text[], $6::text[]) AS t(k, i, b)
           ON CONFLICT (user_key) DO UPDATE SET key_id = EXCLUDED.key_id, user_id_enc = EXCLUDED.user_id_enc,
             balances_enc = EXCLUDED.balances_enc, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
          [
            this.key.id,
            seq,
            meta.at.toISOString(),
            upserts.map((u) => b64(u.ref)),
            upserts.map((u) => b64(seal(this.key, enc.encode(u.userId), this.aad(u.ref, 'id')))),
            upserts.map((u) =>
              b64(seal(this.key, enc.encode(JSON.stringify(u.values.map(String))), this.aad(u.ref, 'balances'))),
            ),
          ],
        )
      if (removes.length > 0)
        await tx.query(
          `DELETE FROM reserves_ledger WHERE user_key IN (SELECT decode(x, 'base64') FROM unnest($1::text[]) AS t(x))`,
          [removes.map((r) => b64(r.ref))],
        )
      if (removes.length > 0)
        // tombstones: a freeze with a base finds the users removed since (schema.ts, migration 9)
        await tx.query(
          `INSERT INTO reserves_ledger_removed (user_key, key_id, user_id_enc, removed_seq)
           SELECT decode(k, 'base64'), $1, decode(i, 'base64'), $2 FROM unnest($3::text[], $4::text[]) AS t(k, i)
           ON CONFLICT (user_key) DO UPDATE SET key_id = EXCLUDED.key_id, user_id_enc = EXCLUDED.user_id_enc,
             removed_seq = EXCLUDED.removed_seq`,
          [
            this.key.id,
            seq,
            removes.map((r) => b64(r.ref)),
            removes.map((r) => b64(seal(this.key, enc.encode(r.userId), this.aad(r.ref, 'id')))),
          ],
        )
      const answer: LedgerAnswer = { seq, changed: upserts.length - added, added, removed: removes.length }
      await tx.query('UPDATE reserves_ledger_state SET seq = $1', [seq])
      if (meta.idempotencyKey !== undefined)
        await tx.query(
          'INSERT INTO reserves_ledger_requests (idempotency_key, request_hash, seq, answer, at) VALUES ($1, $2, $3, $4, $5)',
          [meta.idempotencyKey, requestHash, seq, JSON.stringify(answer), meta.at.toISOString()],
        )
      await appendAudit(tx, {
        actor: meta.actor,
        role: meta.role,
        action: 'ledger.changed',
        details: { ...answer, requestId: meta.requestId },
      })
      return { ...answer, replayed: false }
    })
  }

  /**
   * Copies the ledger as it is between two batches into the cut `cutId` (one freeze request's own:
   * the snapshot id and a random part, so no other request reads or replaces it), in one
   * snapshot-isolated transaction begun behind the batches' lock (lockedForFreeze); returns the
   * batch number it follows and the users it holds.
   */
  async cut(cutId: string): Promise<{ seq: number; users: number; currencies: Currency[] }> {
    return this.sql.transaction(async (tx) => {
      const { currencies, s } = await lockedForFreeze(tx)
      await tx.query('DELETE FROM reserves_ledger_cuts WHERE snapshot_id = $1', [cutId])
      await tx.query(
        `INSERT INTO reserves_ledger_cuts (snapshot_id, user_key, key_id, user_id_enc, balances_enc)
         SELECT $1, user_key, key_id, user_id_enc, balances_enc FROM reserves_ledger`,
        [cutId],
      )
      const [n] = await tx.query('SELECT count(*)::int AS n FROM reserves_ledger_cuts WHERE snapshot_id = $1', [cutId])
      return { seq: Number(s?.seq ?? 0), users: Number(n?.n), currencies }
    })
  }

  /** The cut's entries, `page` users per query (keyset order), opened with the at-rest key. */
  async *cutEntries(cutId: string, page = 2_000): AsyncGenerator<LiabilityEntry[]> {
    let after = ''
    for (;;) {
      const rows = await this.sql.query(
        `SELECT encode(user_key, 'base64') AS k, encode(user_id_enc, 'base64') AS i, encode(balances_enc, 'base64') AS b
           FROM reserves_ledger_cuts WHERE snapshot_id = $1 AND user_key > decode($2, 'base64')
          ORDER BY user_key LIMIT $3`,
        [cutId, after, page],
      )
      if (rows.length === 0) return
      yield rows.map((r) => {
        const ref = fromB64(r.k as string)
        return {
          userId: dec.decode(open(this.key, fromB64(r.i as string), this.aad(ref, 'id'))),
          balances: (
            JSON.parse(dec.decode(open(this.key, fromB64(r.b as string), this.aad(ref, 'balances')))) as string[]
          ).map(BigInt),
        }
      })
      after = (rows[rows.length - 1]?.k as string).replace(/\n/g, '')
      await new Promise((r) => setImmediate(r))
    }
  }

  /**
   * The changes since batch `since`, read inside the state row's lock like a cut: every user whose
   * row a later batch wrote (its current balances), and every user removed by a later batch who
   * holds no row now (`balances: null`). Only those rows are opened.
   */
  async changesSince(
    since: number,
  ): Promise<{ seq: number; users: number; currencies: Currency[]; changes: LedgerCutChange[] }> {
    return this.sql.transaction(async (tx) => {
      const { currencies, s } = await lockedForFreeze(tx)
      const [n] = await tx.query('SELECT count(*)::int AS n FROM reserves_ledger')
      const live = await tx.query(
        `SELECT encode(user_key, 'base64') AS k, encode(user_id_enc, 'base64') AS i, encode(balances_enc, 'base64') AS b
           FROM reserves_ledger WHERE version > $1`,
        [since],
      )
      const gone = await tx.query(
        `SELECT encode(r.user_key, 'base64') AS k, encode(r.user_id_enc, 'base64') AS i FROM reserves_ledger_removed r
          WHERE r.removed_seq > $1 AND NOT EXISTS (SELECT 1 FROM reserves_ledger l WHERE l.user_key = r.user_key)`,
        [since],
      )
      const changes: LedgerCutChange[] = []
      for (const r of live) {
        const ref = fromB64(r.k as string)
        changes.push({
          userId: dec.decode(open(this.key, fromB64(r.i as string), this.aad(ref, 'id'))),
          balances: (
            JSON.parse(dec.decode(open(this.key, fromB64(r.b as string), this.aad(ref, 'balances')))) as string[]
          ).map(BigInt),
        })
      }
      for (const r of gone) {
        const ref = fromB64(r.k as string)
        changes.push({
          userId: dec.decode(open(this.key, fromB64(r.i as string), this.aad(ref, 'id'))),
          balances: null,
        })
      }
      return { seq: Number(s?.seq ?? 0), users: Number(n?.n), currencies, changes }
    })
  }

  /** Records the batch a frozen snapshot was cut after (read back by a freeze with a base). */
  async recordFreeze(snapshotId: string, seq: number): Promise<void> {
    await this.sql.query(
      'INSERT INTO reserves_ledger_freezes (snapshot_id, seq) VALUES ($1, $2) ON CONFLICT (snapshot_id) DO UPDATE SET seq = EXCLUDED.seq',
      [snapshotId, seq],
    )
  }

  /** The batch snapshot `snapshotId` was frozen after (null: not made by a ledger freeze). */
  async frozenAt(snapshotId: string): Promise<number | null> {
    const [r] = await this.sql.query('SELECT seq FROM reserves_ledger_freezes WHERE snapshot_id = $1', [snapshotId])
    return r ? Number(r.seq) : null
  }

  /** The newest snapshot (not failed) of the chain of the newest freeze (null: no freeze yet). */
  async lastFreezeTip(): Promise<string | null> {
    const [r] = await this.sql.query(
      `SELECT t.id FROM reserves_ledger_freezes f JOIN reserves_snapshots s ON s.id = f.snapshot_id
         JOIN reserves_snapshots t ON COALESCE(t.lineage, t.id) = COALESCE(s.lineage, s.id) AND t.status <> 'failed'
        WHERE s.status <> 'failed' ORDER BY s.seq DESC, t.version DESC LIMIT 1`,
    )
    return r ? (r.id as string) : null
  }

  async dropCut(cutId: string): Promise<void> {
    await this.sql.query('DELETE FROM reserves_ledger_cuts WHERE snapshot_id = $1', [cutId])
  }
}

/**
 * Begins a freeze's read of the ledger, as the first statements of its transaction: REPEATABLE
 * READ (every later statement sees one snapshot), then the state table's lock (a running batch
 * finishes first, later ones wait), taken before any query so that the snapshot starts after it
 * (PostgreSQL's LOCK TABLE: a REPEATABLE READ transaction's view is fixed by its first query, not
 * by a lock). Returns the ledger's currencies and state row; a ledger without currencies cannot be
 * frozen.
 * @throws CairnError `RESERVES_BAD_OPTIONS`
 */
async function lockedForFreeze(tx: Sql): Promise<{ currencies: Currency[]; s: Record<string, unknown> | undefined }> {
  await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  await tx.query('LOCK TABLE reserves_ledger_state IN EXCLUSIVE MODE')
  const [s] = await tx.query('SELECT currencies, seq FROM reserves_ledger_state')
  const currencies = (s?.currencies as Currency[] | null) ?? null
  if (!currencies)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the ledger has no currencies yet', {
      fault: 'caller',
      hint: 'set them and apply changes before freezing a snapshot',
    })
  return { currencies, s }
}
