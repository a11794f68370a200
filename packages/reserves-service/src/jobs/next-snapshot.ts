// POST /v1/snapshots/:id/next — the next snapshot of a chain, built incrementally from snapshot
// :id and the balances that changed (docs/reserves/incremental.md, chain.ts). The body lists the
// changes: `{ userId, balances }` sets a user's balances (adding a new user), `{ userId, remove:
// true }` takes one out. Hash, currencies and depth are the base's. Refused at the edge, before
// anything is stored: a base that is not built or not its chain's tip, a chain a user was erased
// from, an empty, repeated or malformed change; the rest (users unknown to the base, totals) when
// the build reads the base, as a failed build.
import { randomBytes } from 'node:crypto'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { ReservesErrorCode } from '../errors.ts'
import type { SetChange } from '../tree/sparse-update.ts'
import { MAX_USER_ID_BYTES, parseAmount } from '../verifier/index.ts'
import type { AtRestKey } from './at-rest.ts'
import type { Principal, Role } from './auth.ts'
import { sealChanges } from './build-input.ts'
import { placeOf } from './chain.ts'
import { checkNewId, type QueueBuildDeps, queueBuild } from './queue-build.ts'
import type { SnapshotInfo } from './store.ts'

export interface NextSnapshotDeps {
  key: AtRestKey
  queue: QueueBuildDeps
  /** Largest body (the JSON snapshot limit). */
  bodyLimit: number
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
  parse: <T>(schema: z.ZodType<T>, value: unknown) => T
}

const Next = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    // each change is checked by hand (shape()): a zod union over 10,000 changes held the serving
    // thread ~60 ms, most of a 1%-of-1M request
    changes: z.array(z.unknown()).min(1),
  })
  .strict()

const utf8 = new TextEncoder()

type Parsed = { userId: string; remove: true } | { userId: string; balances: Record<string, unknown> }

/** One change's shape: `{userId, balances: {SYM: amount}}` or `{userId, remove: true}`, nothing else. */
function shape(c: unknown, i: number): Parsed {
  const o = (c !== null && typeof c === 'object' && !Array.isArray(c) ? c : {}) as Record<string, unknown>
  const keys = Object.keys(o)
  const ok =
    typeof o.userId === 'string' &&
    keys.length === 2 &&
    (o.remove === true ||
      ('balances' in o && o.balances !== null && typeof o.balances === 'object' && !Array.isArray(o.balances)))
  if (!ok)
    throw badChange(
      i,
      typeof o.userId === 'string' ? o.userId : '',
      'is neither {userId, balances} nor {userId, remove: true}',
      'give balances as {"SYM": "amount"}, or "remove": true',
    )
  return o as Parsed
}

const badChange = (i: number, userId: string, message: string, hint: string) =>
  new CairnError(ReservesErrorCode.INPUT_INVALID, `change ${i + 1}: ${message}`, {
    fault: 'caller',
    hint,
    meta: { row: i + 1, userId },
  })

export function registerNextSnapshot(app: FastifyInstance, d: NextSnapshotDeps): void {
  app.post<{ Params: { id: string } }>(
    '/v1/snapshots/:id/next',
    { ...d.guard(['admin']), bodyLimit: d.bodyLimit },
    async (req, reply) => {
      const body = d.parse(Next, req.body)
      const baseId = req.params.id
      const base = await builtBase(d.queue, baseId)
      const symbols = base.currencies.map((c) => c.symbol)
      const seen = new Set<string>()
      const changes: SetChange[] = body.changes.map((raw, i) => {
        const c = shape(raw, i)
        if (c.userId.length === 0 || utf8.encode(c.userId).length > MAX_USER_ID_BYTES)
          throw badChange(
            i,
            c.userId,
            'empty or over-long user id',
            `user ids are 1 to ${MAX_USER_ID_BYTES} UTF-8 bytes`,
          )
        if (seen.has(c.userId)) throw badChange(i, c.userId, `user ${c.userId} is listed twice`, 'one change per user')
        seen.add(c.userId)
        if ('remove' in c) return { userId: c.userId, balances: null }
        const extra = Object.keys(c.balances).find((s) => !symbols.includes(s))
        if (extra !== undefined)
          throw badChange(
            i,
            c.userId,
            `currency ${extra} is not in snapshot ${baseId}`,
            `its currencies: ${symbols.join(', ')}`,
          )
        return {
          userId: c.userId,
          balances: symbols.map((s) => {
            const a = c.balances[s]
            const v = typeof a === 'string' || typeof a === 'number' ? parseAmount(String(a)) : null
            if (v === null)
              throw badChange(
                i,
                c.userId,
                a === undefined
                  ? `no ${s} balance`
                  : `${s} balance ${JSON.stringify(a)} is not an integer in [0, 2^128)`,
                'give every currency of the base, in the smallest unit',
              )
            return v
          }),
        }
      })
      const p = d.who(req)
      const id = await queueNext(d, { actor: p.sub, role: p.role, requestId: req.id }, base, body.id, changes, {
        base: baseId,
        changes: changes.length,
      })
      return reply.code(202).send({ id, status: 'building', base: baseId })
    },
  )
}

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
 * freeze with a base (ledger/routes.ts).
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
