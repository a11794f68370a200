// The build queue, for operators (admin): what is queued, running (and on which worker, until
// when), failed; a stuck build cancelled (its rows removed, the snapshot failed, its id free again)
// or a failed one retried.
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { cancelBuild, retryBuild } from '../../jobs/build-admin.ts'
import type { BuildJobs } from '../../jobs/jobs.ts'
import type { RouteGuard } from '../../kernel/access.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { ReservesEvent } from '../../kernel/events.ts'
import { parse } from '../../kernel/http.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { BuildsQuery } from './schemas.ts'

export interface BuildRouteDeps {
  sql: Sql
  jobs: BuildJobs
  store: SnapshotStore
  /** Publishes an event to every instance. */
  publish: (event: ReservesEvent) => Promise<void>
  /** Tells the runners (or the dispatch queue) a build was queued. */
  queued: (id: string) => void
  guard: (roles: Role[]) => RouteGuard
  who: (req: FastifyRequest) => Principal
}

export function buildRoutes(app: FastifyInstance, d: BuildRouteDeps): void {
  const { sql, jobs, store, guard, who } = d
  app.get('/v1/builds', guard(['admin']), async (req) => {
    const q = parse(BuildsQuery, req.query)
    return { builds: await jobs.list(q.all === 'true', q.limit) }
  })
  const jobOf = async (id: string) => {
    const j = await jobs.get(id)
    if (!j)
      throw new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `no build job for snapshot ${id}`, { fault: 'caller' })
    return j
  }
  app.get('/v1/builds/:id', guard(['admin']), async (req) => jobOf((req.params as { id: string }).id))
  app.post('/v1/builds/:id/cancel', guard(['admin']), async (req) => {
    const { id } = req.params as { id: string }
    const j = await cancelBuild({ sql, jobs, store }, id, who(req))
    void d.publish({ type: 'snapshot.failed', id, error: 'cancelled' })
    return j
  })
  app.post('/v1/builds/:id/retry', guard(['admin']), async (req) => {
    const { id } = req.params as { id: string }
    const j = await retryBuild({ sql, jobs }, id, who(req))
    d.queued(id)
    return j
  })
}
