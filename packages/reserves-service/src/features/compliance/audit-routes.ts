// The audit log for staff (admin, auditor): its entries, and the check of its hash chain (a pruned
// prefix is accounted for by its checkpoint).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { listAudit } from '../../kernel/audit.ts'
import type { Role } from '../../kernel/auth.ts'
import { parse } from '../../kernel/http.ts'
import type { Sql } from '../../kernel/sql.ts'
import { verifyAuditWithCheckpoint } from './audit-checkpoint.ts'

export interface AuditRouteDeps {
  sql: Sql
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

const AuditPage = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

export async function auditRoutes(app: FastifyInstance, d: AuditRouteDeps): Promise<void> {
  app.get('/v1/audit', d.guard(['admin', 'auditor']), async (req) => {
    const q = parse(AuditPage, req.query)
    const entries = await listAudit(d.sql, q.after, q.limit)
    return { entries }
  })
  app.get('/v1/audit/verify', d.guard(['admin', 'auditor']), async () => verifyAuditWithCheckpoint(d.sql))
}
