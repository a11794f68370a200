// The compliance routes: GDPR export and erasure (admin), the auditor report (admin, auditor), the
// report key (public), the retention policy and an immediate run (admin). The tombstones, the
// retention job and the proof-read policy are the service's Compliance (module.ts).
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { parseInput } from '../../kernel/validate.ts'
import { eraseUser, exportUser, subjectRef } from './gdpr.ts'
import type { Compliance } from './module.ts'
import { buildReport, MAX_SAMPLES } from './report.ts'
import { reportCsv, reportPdf } from './report-render.ts'

export interface ComplianceRouteDeps {
  compliance: Compliance
  sql: Sql
  key: AtRestKey
  store: SnapshotStore
  /** The public summary of a snapshot's newest completed reconciliation (null: none), for the report. */
  reconciliation: (snapshotId: string) => Promise<Record<string, unknown> | null>
  clockMs: () => number
  /** The service's role guard (onRequest hook: authenticates, checks the role, charges the rate limit). */
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
}

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

/** The compliance feature: a Fastify plugin the service registers. */
export async function complianceRoutes(app: FastifyInstance, d: ComplianceRouteDeps): Promise<void> {
  const { opts, metrics, log, retention, tombstones } = d.compliance
  const { who } = d
  const admin = d.guard(['admin'])
  const staff = d.guard(['admin', 'auditor'])

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
      {
        sql: d.sql,
        key: d.key,
        store: d.store,
        reconciliation: d.reconciliation,
        reportKey: opts.reportKey,
        clockMs: d.clockMs,
      },
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
}
