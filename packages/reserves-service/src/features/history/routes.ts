// A user's own history: `GET /v1/me/history` (role user) lists the built snapshots the signed-in
// user is in, newest first, each with their balances, the snapshot's root and totals, and where
// their proof is. Paged over snapshots (as `GET /v1/snapshots` is): a page may hold fewer items
// than snapshots scanned; `next` continues the scan. Balances come from the user's own proofs
// (the proof cache's, or read from the stored levels), never from another table.

import { ReservesErrorCode } from '@cairn/reserves'
import type { ProofV1 } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { SnapshotStore } from '../../kernel/store.ts'

export interface HistoryRouteDeps {
  store: SnapshotStore
  /** A user's proof body in a snapshot (throws RESERVES_USER_UNKNOWN when they are not in it). */
  proof: (snapshotId: string, userId: string) => Promise<string>
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
}

/** One snapshot of a user's history. */
export interface HistoryItem {
  snapshotId: string
  createdAt: string
  builtAt: string | null
  hash: string
  /** The user's balances in it, per currency symbol (smallest units, decimal strings). */
  balances: Record<string, string>
  root: { hash: string; balances: string[] }
  /** Where the full proof is (GET, same credentials). */
  proof: string
}

const HistoryQuery = z.object({
  cursor: z.string().regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export async function historyRoutes(app: FastifyInstance, deps: HistoryRouteDeps): Promise<void> {
  const { store, proof, guard, who } = deps
  app.get('/v1/me/history', guard(['user']), async (req) => {
    const q = HistoryQuery.safeParse(req.query)
    if (!q.success)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'bad history query', {
        fault: 'caller',
        hint: 'limit is 1 to 100; cursor is the `next` of the previous page',
      })
    const userId = who(req).sub
    const page = await store.list(q.data.cursor ? Number(q.data.cursor) : null, q.data.limit)
    const items: HistoryItem[] = []
    for (const s of page.items) {
      if (s.status !== 'built') continue
      let p: ProofV1
      try {
        p = JSON.parse(await proof(s.id, userId)) as ProofV1
      } catch (err) {
        if (err instanceof CairnError && err.code === ReservesErrorCode.USER_UNKNOWN) continue
        throw err
      }
      items.push({
        snapshotId: s.id,
        createdAt: s.createdAt,
        builtAt: s.builtAt,
        hash: s.hash,
        balances: p.balances,
        root: p.root,
        proof: `/v1/snapshots/${encodeURIComponent(s.id)}/proof`,
      })
    }
    return { items, next: page.next }
  })
}
