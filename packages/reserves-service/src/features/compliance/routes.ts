// The compliance routes and hooks: GDPR export and erasure (admin), the auditor report (admin,
// auditor), the report key (public), the retention policy and an immediate run (admin). Two hooks
// guard the proof routes registered by the service: an auditor reads per-user proofs (an id beside
// its balances) only when granted, and no proof of an erased user or a retired snapshot is served,
// even from the proof cache.
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { ReservesErrorCode } from '../errors.ts'
import type { ReconciliationRuns } from '../reconciliation/runs.ts'
import type { AtRestKey } from '../service/at-rest.ts'
import { appendAudit } from '../service/audit.ts'
import type { Principal, Role } from '../service/auth.ts'
import type { Sql } from '../service/sql.ts'
import type { SnapshotStore } from '../service/store.ts'
import { parseInput } from '../webhooks/validate.ts'
import { eraseUser, exportUser, subjectRef } from './gdpr.ts'
import { createComplianceMetrics } from './metrics.ts'
import { type ComplianceOptions, checkRetention, DEFAULT_COMPLIANCE } from './options.ts'
import { buildReport, MAX_SAMPLES } from './report.ts'
import { reportCsv, reportPdf } from './report-render.ts'
import { RetentionJob } from './retention.ts'
import { Tombstones } from './tombstones.ts'

export interface ComplianceRouteDeps {
  sql: Sql
  key: AtRestKey
  store: SnapshotStore
  runs: ReconciliationRuns
  registry: Registry
  logger: Logger
  clockMs: () => number
  /** The service's role guard (onRequest hook: authenticates, checks the role, charges the rate limit). */
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
  opts: ComplianceOptions | undefined
}

/** What the service holds of the compliance part, to start and stop it. */
export interface Compliance {
  retention: RetentionJob | null
  tombstones: Tombstones
  close(): Promise<void>
}

/** The service's routes that answer a user's proof (an id with its balances). */
const OWN_PROOF = '/v1/snapshots/:id/proof'
const STAFF_PROOF = '/v1/snapshots/:id/proofs/:userId'
const BATCH = '/v1/snapshots/:id/proofs/batch'

const ReportQuery = z
  .object({
    format: z.enum(['json', 'csv', 'pdf']).default('json'),
    samples: z.coerce.number().int().min(0).max(MAX_SAMPLES).default(8),
    seed: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, dots, dashes or underscores' })
      .optional(),
  })
  .strict()

export function registerComplianceRoutes(app: FastifyInstance, d: ComplianceRouteDeps): Compliance {
  const opts = d.opts ?? DEFAULT_COMPLIANCE
  if (opts.retention) checkRetention(opts.retention)
  const metrics = createComplianceMetrics(d.registry)
  const log = d.logger.child({ component: 'compliance' })
  const tombstones = new Tombstones({ refreshMs: opts.tombstoneRefreshMs }, { sql: d.sql, key: d.key, logger: log })
  tombstones.start()
  const retention = opts.retention
    ? new RetentionJob(opts.retention, {
        sql: d.sql,
        store: d.store,
        logger: log,
        metrics,
        clockMs: d.clockMs,
        tombstones,
      })
    : null
  if (retention?.opts.run) retention.start()
  const { who } = d
  const admin = d.guard(['admin'])
  const staff = d.guard(['admin', 'auditor'])
  const readers = opts.auditorProofReaders
  const mayReadProofs = (p: Principal) => p.role !== 'auditor' || readers === 'all' || readers.includes(p.sub)

  app.addHook('preHandler', async (req) => {
    const route = req.routeOptions.url
    if (route !== OWN_PROOF && route !== STAFF_PROOF && route !== BATCH) return
    const p = who(req)
    if (!mayReadProofs(p))
      throw new CairnError(
        ReservesErrorCode.FORBIDDEN,
        `auditor ${p.sub} may not read per-user proofs (a user id beside its balances)`,
        {
          fault: 'caller',
          hint: 'an auditor verifies with GET /v1/snapshots/:id/report (sampled proofs checked), /leaves and /v1/audit/verify; the operator grants proof reads with --auditor-proof-readers',
        },
      )
    const { id, userId } = req.params as { id: string; userId?: string }
    await tombstones.ready
    const gone = route === BATCH ? tombstones.retiredError(id) : tombstones.goneError(id, userId ?? p.sub)
    if (gone) throw gone
  })
  // a batch answers the others' proofs; an erased user's (perhaps cached) proof moves to `missing`
  app.addHook('preSerialization', async (req, _reply, payload: unknown) => {
    if (req.routeOptions.url !== BATCH || !payload || typeof payload !== 'object') return payload
    const b = payload as { proofs?: { userId: string }[]; missing?: string[] }
    if (!Array.isArray(b.proofs) || !Array.isArray(b.missing)) return payload
    const { id } = req.params as { id: string }
    const erased = b.proofs.filter((p) => tombstones.goneError(id, p.userId))
    if (erased.length === 0) return payload
    return {
      ...b,
      proofs: b.proofs.filter((p) => !erased.includes(p)),
      missing: [...b.missing, ...erased.map((p) => p.userId)],
    }
  })

  const gdpr = { sql: d.sql, key: d.key, store: d.store, clockMs: d.clockMs }
  const userOf = (req: FastifyRequest) => (req.params as { userId: string }).userId

  app.get('/v1/users/:userId/export', admin, async (req) => {
    const out = await exportUser(gdpr, userOf(req), who(req))
    metrics.gdprRequests.inc({ action: 'export' })
    return out
  })

  app.post('/v1/users/:userId/erase', admin, async (req) => {
    const userId = userOf(req)
    const r = await eraseUser(gdpr, userId, who(req), req.id)
    for (const e of r.erased) tombstones.addErased(e.snapshotId, e.ref, r.erasedAt)
    metrics.gdprRequests.inc({ action: 'erase' })
    log.info(
      { subject: subjectRef(d.key, userId), snapshots: r.erased.length, pending: r.pending.length },
      'user erased',
    )
    return {
      erasedAt: r.erasedAt,
      snapshots: r.erased.map((e) => e.snapshotId),
      inputsDropped: r.inputsDropped,
      pending: r.pending,
      ...(r.pending.length > 0
        ? { hint: 'snapshots still building hold the user: erase again once they are built' }
        : {}),
    }
  })

  app.get('/v1/snapshots/:id/report', staff, async (req, reply) => {
    const { id } = req.params as { id: string }
    const q = parseInput(ReportQuery, req.query, 'report query')
    const report = await buildReport(
      { sql: d.sql, key: d.key, store: d.store, runs: d.runs, reportKey: opts.reportKey, clockMs: d.clockMs },
      id,
      { samples: q.samples, ...(q.seed ? { seed: q.seed } : {}) },
    )
    const p = who(req)
    await appendAudit(d.sql, {
      actor: p.sub,
      role: p.role,
      action: 'report.generated',
      details: {
        id,
        format: q.format,
        seed: report.samples.seed,
        samples: report.samples.drawn,
        failed: report.samples.failed,
        keyId: report.signature?.keyId ?? null,
      },
    })
    metrics.reports.inc({ format: q.format })
    const name = `cairn-reserves-report-${id}`
    reply.header('cache-control', 'no-store')
    if (q.format === 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.csv"`)
        .send(reportCsv(report))
    if (q.format === 'pdf')
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${name}.pdf"`)
        .send(Buffer.from(await reportPdf(report)))
    return report
  })

  app.get('/v1/compliance/report-key', async () => {
    if (!opts.reportKey)
      throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, 'this service signs no reports (no report key)', {
        fault: 'caller',
        hint: 'the operator starts the service with --report-key-file',
      })
    return { alg: 'Ed25519', keyId: opts.reportKey.keyId, publicKey: opts.reportKey.publicKeyHex }
  })

  app.get('/v1/compliance/retention', staff, async () => ({
    policy: opts.retention,
    last: retention?.last ?? null,
  }))

  app.post('/v1/compliance/retention/run', admin, async (req) => {
    if (!retention)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'no retention policy is configured', {
        fault: 'caller',
        hint: 'start the service with --retain-snapshots, --retain-days, --retain-audit-entries or --retain-audit-days',
      })
    const p = who(req)
    return retention.runOnce({ sub: p.sub, role: p.role })
  })

  return {
    retention,
    tombstones,
    close: async () => {
      await tombstones.stop()
      await retention?.stop()
    },
  }
}
