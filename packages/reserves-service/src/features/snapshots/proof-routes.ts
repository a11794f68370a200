// Reading snapshots and their proofs: the list and one snapshot (users see only what their proof
// shows), a user's own proof, staff reads of anyone's (audited, by reference), batches and the
// leaves. Only built snapshots have proofs and a built snapshot never changes, so a cached proof is
// never stale and is sent as immutable.
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteGuard } from '../../kernel/access.ts'
import { type AtRestKey, userKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import { parse, sendTagged } from '../../kernel/http.ts'
import type { ReservesMetrics } from '../../kernel/metrics.ts'
import type { CachedProof } from '../../kernel/proof-cache.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotInfo, SnapshotStore } from '../../kernel/store.ts'
import { Batch, LeavesPage, Page } from './schemas.ts'

export interface ProofRouteDeps {
  sql: Sql
  key: AtRestKey
  store: SnapshotStore
  metrics: ReservesMetrics
  /** A user's proof as JSON, through the proof cache. */
  proofBody: (id: string, userId: string) => Promise<CachedProof>
  guard: (roles: Role[]) => RouteGuard
  who: (req: FastifyRequest) => Principal
}

/**
 * A snapshot as a viewer may see it. Users see what their proof shows and no more: not the exact
 * user count, nor the depth and minimum depth (the random padding up to the minimum depth exists
 * to hide the count). Staff see everything.
 */
function forViewer(s: SnapshotInfo, role: Role): Partial<SnapshotInfo> {
  if (role !== 'user') return s
  const { userCount: _count, depth: _depth, minDepth: _min, ...shown } = s
  return shown
}

/**
 * How the audit trail names a user: the first 16 bytes of the users table's lookup key
 * (HMAC(at-rest key, snapshot ‖ user id)), never the id. Whoever holds the key can tell whether a
 * given user's proof was read (compute the ref); the table itself, its backups and the database's
 * WAL reveal no ids.
 */
function auditRef(key: AtRestKey, snapshotId: string, userId: string): string {
  return Buffer.from(userKey(key, snapshotId, userId).subarray(0, 16)).toString('hex')
}

/** A proof never changes once its snapshot is built: private (it names the user), immutable. */
function sendImmutable(req: FastifyRequest, reply: FastifyReply, proof: CachedProof) {
  return sendTagged(req, reply, proof.body, 'private, max-age=31536000, immutable', proof.etag)
}

export function proofRoutes(app: FastifyInstance, d: ProofRouteDeps): void {
  const { sql, key, store, metrics, proofBody, guard, who } = d
  const audit = (p: Principal, action: string, details: Record<string, unknown>) =>
    appendAudit(sql, { actor: p.sub, role: p.role, action, details })
  const timed = async <T>(route: string, fn: () => Promise<T>): Promise<T> => {
    const stop = metrics.proofServeSeconds.startTimer({ route })
    try {
      return await fn()
    } finally {
      stop()
    }
  }

  app.get('/v1/snapshots', guard(['admin', 'auditor', 'user']), async (req) => {
    const q = parse(Page, req.query)
    const page = await store.list(q.cursor ? Number(q.cursor) : null, q.limit)
    return { ...page, items: page.items.map((s) => forViewer(s, who(req).role)) }
  })

  app.get('/v1/snapshots/:id', guard(['admin', 'auditor', 'user']), async (req, reply) => {
    const { id } = req.params as { id: string }
    const s = await store.get(id)
    // not immutable: an anchor may still be added; clients revalidate with the ETag
    const body = JSON.stringify(forViewer(s, who(req).role))
    return sendTagged(req, reply, body, s.status === 'built' ? 'no-cache' : 'no-store')
  })

  app.get('/v1/snapshots/:id/proof', guard(['user']), async (req, reply) => {
    const p = who(req)
    const { id } = req.params as { id: string }
    return sendImmutable(req, reply, await timed('own', () => proofBody(id, p.sub)))
  })

  app.get('/v1/snapshots/:id/proofs/:userId', guard(['admin', 'auditor']), async (req, reply) => {
    const p = who(req)
    const { id, userId } = req.params as { id: string; userId: string }
    const body = await timed('staff', () => proofBody(id, userId))
    await audit(p, 'proof.read', { id, users: [auditRef(key, id, userId)] })
    return sendImmutable(req, reply, body)
  })

  app.post('/v1/snapshots/:id/proofs/batch', guard(['admin', 'auditor']), async (req) => {
    const p = who(req)
    const { id } = req.params as { id: string }
    const { userIds } = parse(Batch, req.body)
    const proofs: unknown[] = []
    const missing: string[] = []
    for (const u of new Set(userIds)) {
      try {
        proofs.push(JSON.parse((await timed('batch', () => proofBody(id, u))).body))
      } catch (err) {
        if (err instanceof CairnError && err.code === ReservesErrorCode.USER_UNKNOWN) missing.push(u)
        else throw err
      }
    }
    await audit(p, 'proof.read', { id, users: [...new Set(userIds)].map((u) => auditRef(key, id, u)) })
    return { proofs, missing }
  })

  app.get('/v1/snapshots/:id/leaves', guard(['auditor', 'admin']), async (req, reply) => {
    const { id } = req.params as { id: string }
    const q = parse(LeavesPage, req.query)
    // a built snapshot's leaves never change: revalidated with the ETag, never refetched whole
    return sendTagged(req, reply, JSON.stringify(await store.leaves(id, q.offset, q.limit)), 'private, no-cache')
  })
}
