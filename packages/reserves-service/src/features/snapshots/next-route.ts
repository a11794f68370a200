// POST /v1/snapshots/:id/next — the next snapshot of a chain, built incrementally from snapshot
// :id and the balances that changed (docs/reserves/incremental.md, kernel/chain.ts). The body lists the
// changes: `{ userId, balances }` sets a user's balances (adding a new user), `{ userId, remove:
// true }` takes one out. Hash, currencies and depth are the base's. Refused at the edge, before
// anything is stored: a base that is not built or not its chain's tip, a chain a user was erased
// from, an empty, repeated or malformed change; the rest (users unknown to the base, totals) when
// the build reads the base, as a failed build.

import type { SetChange } from '@cairn/reserves'
import { ReservesErrorCode } from '@cairn/reserves'
import { MAX_USER_ID_BYTES, parseAmount } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { builtBase, queueNext } from '../../jobs/next-snapshot.ts'
import type { QueueBuildDeps } from '../../jobs/queue-build.ts'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import { parse } from '../../kernel/http.ts'

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

export async function nextSnapshotRoute(app: FastifyInstance, d: NextSnapshotDeps): Promise<void> {
  app.post<{ Params: { id: string } }>(
    '/v1/snapshots/:id/next',
    { ...d.guard(['admin']), bodyLimit: d.bodyLimit },
    async (req, reply) => {
      const body = parse(Next, req.body)
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
