// The compliance part the service holds from start to close: the tombstones of erased users and
// retired snapshots (refreshed from the database), the retention job, and the policy on proof reads
// that the snapshots feature applies to its proof routes (an auditor reads per-user proofs — an id
// beside its balances — only when granted; no proof of an erased user or a retired snapshot is
// served, even from the proof cache).
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import type { Principal } from '../../kernel/auth.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { type ComplianceMetrics, createComplianceMetrics } from './metrics.ts'
import { type ComplianceOptions, checkRetention, DEFAULT_COMPLIANCE } from './options.ts'
import { RetentionJob } from './retention.ts'
import { Tombstones } from './tombstones.ts'

export interface ComplianceDeps {
  sql: Sql
  store: SnapshotStore
  registry: Registry
  logger: Logger
  clockMs: () => number
  key: AtRestKey
}

/** What the service holds of the compliance part, to start and stop it. */
export interface Compliance {
  opts: ComplianceOptions
  metrics: ComplianceMetrics
  log: Logger
  retention: RetentionJob | null
  tombstones: Tombstones
  /** Adds the proof-read policy to `app` (the snapshots feature's context): its hooks see `who`. */
  guardProofs(app: FastifyInstance, who: (req: FastifyRequest) => Principal): void
  close(): Promise<void>
}

/** The service's routes that answer a user's proof (an id with its balances). */
const OWN_PROOF = '/v1/snapshots/:id/proof'
const STAFF_PROOF = '/v1/snapshots/:id/proofs/:userId'
const BATCH = '/v1/snapshots/:id/proofs/batch'

/** Checks the options, starts the tombstones' refresh and (when it runs here) the retention job. */
export function openCompliance(options: ComplianceOptions | undefined, d: ComplianceDeps): Compliance {
  const opts = options ?? DEFAULT_COMPLIANCE
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
  const readers = opts.auditorProofReaders
  const mayReadProofs = (p: Principal) => p.role !== 'auditor' || readers === 'all' || readers.includes(p.sub)
  return {
    opts,
    metrics,
    log,
    retention,
    tombstones,
    guardProofs: (app, who) => {
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
    },
    close: async () => {
      await tombstones.stop()
      await retention?.stop()
    },
  }
}
