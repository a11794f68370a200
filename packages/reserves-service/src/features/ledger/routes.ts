// The live ledger's routes (docs/reserves/ledger.md): balances change by batches of signed deltas
// (or set values, or removals), each batch whole or not at all and at most once per idempotency
// key; a freeze cuts the ledger between two batches into a snapshot and queues its build.
import { randomBytes } from 'node:crypto'
import type { LiabilityEntry } from '@cairn/reserves'
import { BUILD_MAX_DEPTH, checkCurrencies, depthFor, ReservesErrorCode } from '@cairn/reserves'
import { isU128 } from '@cairn/reserves/verifier'
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { INPUT_PART, sealPart } from '../../jobs/build-input.ts'
import { builtBase, queueNext } from '../../jobs/next-snapshot.ts'
import { checkNewId, type QueueBuildDeps, queueBuild } from '../../jobs/queue-build.ts'
import { type AtRestKey, userKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import { placeOf, usersByKey } from '../../kernel/chain.ts'
import { parseInput } from '../../kernel/validate.ts'
import { Batch } from './batch.ts'
import { answerFreezeId, type FreezeAnswer, freezeRequestHash, releaseFreezeId, reserveFreezeId } from './freeze-ids.ts'
import { createLedgerMetrics } from './metrics.ts'
import type { LedgerChange, LedgerStore } from './store.ts'

export interface LedgerRouteDeps {
  store: LedgerStore
  key: AtRestKey
  queue: QueueBuildDeps
  registry: Registry
  logger: Logger
  defaultHash: 'sha256' | 'keccak256'
  defaultMinDepth: number
  clockMs: () => number
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
}

const Currencies = z
  .object({ currencies: z.array(z.object({ symbol: z.string(), decimals: z.number().int() }).strict()).min(1) })
  .strict()
const Freeze = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    hash: z.enum(['sha256', 'keccak256']).optional(),
    minDepth: z.number().int().min(0).max(28).optional(),
    base: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
  })
  .strict()
const IDEMPOTENCY = /^[\x21-\x7e]{1,200}$/

export async function ledgerRoutes(app: FastifyInstance, d: LedgerRouteDeps): Promise<void> {
  const { store, guard, who } = d
  const { changes, freezes } = createLedgerMetrics(d.registry)

  app.get('/v1/ledger', guard(['admin', 'auditor']), async () => store.state())

  app.put('/v1/ledger/currencies', guard(['admin']), async (req) => {
    const { currencies } = parseInput(Currencies, req.body, 'ledger currencies')
    checkCurrencies(currencies)
    const p = who(req)
    await store.setCurrencies(currencies, { sub: p.sub, role: p.role })
    return store.state()
  })

  app.post('/v1/ledger/changes', guard(['admin']), async (req) => {
    const key = req.headers['idempotency-key']
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY.test(key)))
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the Idempotency-Key header is not usable', {
        fault: 'caller',
        hint: 'send 1 to 200 printable ASCII characters, one key per batch',
      })
    const batch = parseInput(Batch, req.body, 'ledger batch')
    const p = who(req)
    const answer = await store.apply(batch.changes as LedgerChange[], {
      actor: p.sub,
      role: p.role,
      requestId: req.id,
      idempotencyKey: key,
      at: new Date(d.clockMs()),
    })
    if (!answer.replayed) {
      changes.inc({ kind: 'changed' }, answer.changed)
      changes.inc({ kind: 'added' }, answer.added)
      changes.inc({ kind: 'removed' }, answer.removed)
    }
    return answer
  })

  app.get('/v1/ledger/users/:userId', guard(['admin']), async (req) => {
    const { userId } = req.params as { userId: string }
    const row = await store.balances(userId)
    const p = who(req)
    // Named by a keyed ref, as proof reads are: the audit log holds no user id.
    const ref = Buffer.from(userKey(d.key, 'ledger', userId).subarray(0, 16)).toString('hex')
    await appendAudit(store.sqlHandle, { actor: p.sub, role: p.role, action: 'ledger.read', details: { users: [ref] } })
    if (!row)
      throw new CairnError(ReservesErrorCode.USER_UNKNOWN, `user ${userId} holds no balance in the ledger`, {
        fault: 'caller',
      })
    return row
  })

  app.post('/v1/ledger/freeze', guard(['admin']), async (req, reply) => {
    const body = parseInput(Freeze, req.body ?? {}, 'ledger freeze')
    if (body.base !== undefined) {
      if (body.hash !== undefined || body.minDepth !== undefined)
        throw new CairnError(
          ReservesErrorCode.BAD_OPTIONS,
          'a freeze with a base takes its hash and depth from the base',
          {
            fault: 'caller',
            hint: 'send {"base", "id"?} only, or freeze in full without "base"',
          },
        )
      const p = who(req)
      const id = body.id ?? newFreezeId(d)
      const replay = await reserve(d, reply, id, { base: body.base })
      if (replay) return reply.code(202).header('idempotent-replayed', 'true').send(replay)
      const answer = await releasedOnError(d, id, async () => {
        const out = await freezeOnto(d, { actor: p.sub, role: p.role, requestId: req.id }, body.base as string, id)
        const sent = { status: 'building', ...out }
        await answerFreezeId(d.queue.sql, id, sent)
        return sent
      })
      freezes.inc()
      d.logger.info(answer, 'ledger frozen into the next snapshot of a chain')
      return reply.code(202).send(answer)
    }
    const id = body.id ?? newFreezeId(d)
    const minDepth = body.minDepth ?? d.defaultMinDepth
    const hash = body.hash ?? d.defaultHash
    // The id first: a repeat of it (a retry, a second operator) is answered, never cut again.
    const replay = await reserve(d, reply, id, { hash, minDepth })
    if (replay) return reply.code(202).header('idempotent-replayed', 'true').send(replay)
    const answer = await releasedOnError(d, id, () => freezeFull(d, req, id, hash, minDepth))
    freezes.inc()
    d.logger.info(answer, 'ledger frozen into a snapshot')
    return reply.code(202).send(answer)
  })
}

const newFreezeId = (d: LedgerRouteDeps) =>
  `snap-${new Date(d.clockMs()).toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`

/** Reserves a freeze id (freeze-ids.ts): the answer to replay, or null; 409 in progress gets Retry-After. */
async function reserve(
  d: LedgerRouteDeps,
  reply: FastifyReply,
  id: string,
  params: Record<string, unknown>,
): Promise<FreezeAnswer | null> {
  try {
    return (await reserveFreezeId(d.queue.sql, id, freezeRequestHash(params), d.clockMs()))?.replay ?? null
  } catch (err) {
    if (err instanceof CairnError && err.meta?.inProgress === true) reply.header('retry-after', '1')
    throw err
  }
}

/** Runs a freeze that holds `id`; a failed one frees the id again (nothing was queued under it). */
async function releasedOnError<T>(d: LedgerRouteDeps, id: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    await releaseFreezeId(d.queue.sql, id).catch(() => {})
    throw err
  }
}

/**
 * A full freeze of the ledger into snapshot `id` (reserved): the cut — this request's own copy,
 * taken in one snapshot-isolated transaction — read and sealed a part at a time, then the build
 * queued and the answer recorded for repeats.
 */
async function freezeFull(
  d: LedgerRouteDeps,
  req: FastifyRequest,
  id: string,
  hash: 'sha256' | 'keccak256',
  minDepth: number,
): Promise<FreezeAnswer> {
  const { store } = d
  const replaces = await checkNewId(d.queue.store, id)
  const cutId = `${id}#${randomBytes(6).toString('hex')}`
  const cut = await store.cut(cutId)
  try {
    if (cut.users === 0)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'the ledger holds no balances to freeze', {
        fault: 'caller',
        hint: 'apply changes first (POST /v1/ledger/changes)',
      })
    if (depthFor(cut.users, minDepth) > BUILD_MAX_DEPTH)
      throw new CairnError(
        ReservesErrorCode.BAD_OPTIONS,
        `${cut.users} users need a tree deeper than ${BUILD_MAX_DEPTH}`,
        {
          fault: 'caller',
          hint: 'split the ledger',
        },
      )
    // The cut is read and sealed a part at a time: the serving thread never holds it whole.
    const parts: Uint8Array[] = []
    const totals = cut.currencies.map(() => 0n)
    let pending: LiabilityEntry[] = []
    for await (const page of store.cutEntries(cutId, INPUT_PART)) {
      for (const e of page) for (const [i, b] of e.balances.entries()) totals[i] = (totals[i] as bigint) + b
      pending = pending.concat(page)
      while (pending.length >= INPUT_PART) {
        parts.push(sealPart(d.key, id, parts.length, pending.slice(0, INPUT_PART)))
        pending = pending.slice(INPUT_PART)
      }
    }
    if (pending.length > 0 || parts.length === 0) parts.push(sealPart(d.key, id, parts.length, pending))
    const over = totals.findIndex((t) => !isU128(t))
    if (over >= 0)
      throw new CairnError(ReservesErrorCode.OVERFLOW, `the total of ${cut.currencies[over]?.symbol} reaches 2^128`, {
        fault: 'caller',
        hint: 'balances in one snapshot must sum to less than 2^128 per currency',
      })
    const p = d.who(req)
    await queueBuild(
      d.queue,
      { actor: p.sub, role: p.role, requestId: req.id },
      { id, hash, minDepth, currencies: cut.currencies, users: cut.users, parts, details: { ledgerSeq: cut.seq } },
      replaces,
    )
    await store.recordFreeze(id, cut.seq)
  } finally {
    await store.dropCut(cutId)
  }
  const answer = { id, status: 'building', ledgerSeq: cut.seq, users: cut.users }
  await answerFreezeId(d.queue.sql, id, answer)
  return answer
}

const refuseBase = (code: (typeof ReservesErrorCode)[keyof typeof ReservesErrorCode], message: string, hint: string) =>
  new CairnError(code, message, { fault: 'caller', hint })

/**
 * A freeze with a base (docs/reserves/ledger.md): the next snapshot of the base's chain, built
 * incrementally from the ledger's changes since the base was frozen — users a later batch wrote
 * (their current balances) and users a later batch removed that the base holds. Only those rows
 * are opened. The chain's rules are /next's (next-snapshot.ts): built base, chain tip, no erasure.
 */
async function freezeOnto(
  d: LedgerRouteDeps,
  who: { actor: string; role: string; requestId: string },
  wanted: string,
  id: string | undefined,
): Promise<{ id: string; base: string; ledgerSeq: number; users: number; changes: number }> {
  const { store } = d
  let baseId = wanted
  if (wanted === 'latest') {
    const tip = await store.lastFreezeTip()
    if (tip === null)
      throw refuseBase(
        ReservesErrorCode.BAD_OPTIONS,
        'no snapshot was frozen from the ledger yet: "latest" names none',
        'freeze in full first (POST /v1/ledger/freeze without "base")',
      )
    baseId = tip
  }
  const base = await builtBase(d.queue, baseId)
  const since = await store.frozenAt(baseId)
  if (since === null)
    throw refuseBase(
      ReservesErrorCode.BAD_OPTIONS,
      `snapshot ${baseId} was not made by a ledger freeze: the ledger cannot tell what changed since`,
      'give a snapshot made by POST /v1/ledger/freeze, or freeze in full; for an upload, use POST /v1/snapshots/{id}/next with the changes',
    )
  const cut = await store.changesSince(since)
  if (JSON.stringify(cut.currencies) !== JSON.stringify(base.currencies))
    throw refuseBase(
      ReservesErrorCode.LEDGER_CONFLICT,
      `the ledger's currencies differ from those of snapshot ${baseId}`,
      'freeze in full (without "base")',
    )
  if (cut.users === 0)
    throw refuseBase(
      ReservesErrorCode.BAD_OPTIONS,
      'the ledger holds no balances to freeze',
      'apply changes first (POST /v1/ledger/changes)',
    )
  // A user removed since the base may have been added after it too: only the base's users are removed.
  const [row] = await d.queue.sql.query('SELECT id, lineage, version FROM reserves_snapshots WHERE id = $1', [baseId])
  const place = placeOf(row!)
  const removed = cut.changes.filter((c) => c.balances === null)
  const held = new Set(
    (
      await usersByKey(
        d.queue.sql,
        place,
        removed.map((c) => userKey(d.key, place.lineage, c.userId)),
      )
    ).map((u) => u.key),
  )
  const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64')
  const changes = cut.changes.filter(
    (c) => c.balances !== null || held.has(b64(userKey(d.key, place.lineage, c.userId))),
  )
  if (changes.length === 0)
    throw refuseBase(
      ReservesErrorCode.LEDGER_CONFLICT,
      `nothing changed in the ledger since snapshot ${baseId} (batch ${since})`,
      `snapshot ${baseId} already holds these balances; freeze without "base" for a fresh full snapshot`,
    )
  const next = await queueNext(d, who, base, id, changes, {
    base: baseId,
    changes: changes.length,
    ledgerSeq: cut.seq,
  })
  await store.recordFreeze(next, cut.seq)
  return { id: next, base: baseId, ledgerSeq: cut.seq, users: cut.users, changes: changes.length }
}
