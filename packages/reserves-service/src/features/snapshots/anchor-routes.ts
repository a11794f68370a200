// A snapshot's anchor: recorded by an admin (with its audit entry and webhook event in one
// transaction), and public once anchored — the root, totals and where they were published are meant
// to be seen by everyone (the page shows them next to a pasted proof), with the newest completed
// reconciliation of the snapshot beside them. 404 until the snapshot is anchored.
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RouteGuard } from '../../kernel/access.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { ReservesEvent } from '../../kernel/events.ts'
import { parse, sendTagged } from '../../kernel/http.ts'
import { recordEvent } from '../../kernel/outbox.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { Anchor } from './schemas.ts'

export interface AnchorRouteDeps {
  sql: Sql
  store: SnapshotStore
  publish: (event: ReservesEvent) => Promise<void>
  /** The public summary of a snapshot's newest completed reconciliation (null: none). */
  reconciliation: (snapshotId: string) => Promise<Record<string, unknown> | null>
  guard: (roles: Role[]) => RouteGuard
  who: (req: FastifyRequest) => Principal
}

export function anchorRoutes(app: FastifyInstance, d: AnchorRouteDeps): void {
  const { sql, store } = d
  app.put('/v1/snapshots/:id/anchor', d.guard(['admin']), async (req) => {
    const p = d.who(req)
    const { id } = req.params as { id: string }
    const a = parse(Anchor, req.body)
    await store.get(id)
    await sql.transaction(async (tx) => {
      await store.setAnchor(id, a, tx)
      await appendAudit(tx, { actor: p.sub, role: p.role, action: 'snapshot.anchored', details: { id, ...a } })
      await recordEvent(tx, 'snapshot.anchored', { snapshotId: id, anchor: a })
    })
    void d.publish({ type: 'snapshot.anchored', id, anchor: a })
    return store.get(id)
  })

  app.get('/v1/snapshots/:id/anchor', async (req, reply) => {
    const { id } = req.params as { id: string }
    const s = await store.get(id)
    if (!s.anchor || !s.root)
      throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `snapshot ${id} has not been anchored`, {
        fault: 'caller',
      })
    const reconciliation = await d.reconciliation(s.id)
    const body = {
      snapshotId: s.id,
      hash: s.hash,
      currencies: s.currencies,
      root: s.root,
      anchor: s.anchor,
      reconciliation,
    }
    return sendTagged(req, reply, JSON.stringify(body), 'public, max-age=60')
  })
}
