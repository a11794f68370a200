// The snapshots feature, one Fastify plugin: uploads, reads and proofs, the next snapshot of a chain,
// the build queue, anchors. Its proof routes carry the compliance policy the service gives it.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '../../kernel/auth.ts'
import { type AnchorRouteDeps, anchorRoutes } from './anchor-routes.ts'
import { type BuildRouteDeps, buildRoutes } from './build-routes.ts'
import { type NextSnapshotDeps, nextSnapshotRoute } from './next-route.ts'
import { type ProofRouteDeps, proofRoutes } from './proof-routes.ts'
import { type UploadRouteDeps, uploadRoute } from './upload-route.ts'

export type SnapshotRouteDeps = UploadRouteDeps &
  ProofRouteDeps &
  AnchorRouteDeps &
  BuildRouteDeps & {
    /** Adds the hooks that guard proof reads (compliance: auditors' grants, erased users) to this context. */
    guardProofs: (app: FastifyInstance, who: (req: FastifyRequest) => Principal) => void
  }

export async function snapshotRoutes(app: FastifyInstance, d: SnapshotRouteDeps): Promise<void> {
  d.guardProofs(app, d.who)
  uploadRoute(app, d)
  proofRoutes(app, d)
  buildRoutes(app, d)
  anchorRoutes(app, d)
  const next: NextSnapshotDeps = {
    key: d.key,
    queue: d.queue,
    bodyLimit: d.maxSnapshotJsonBytes,
    guard: d.guard,
    who: d.who,
  }
  await nextSnapshotRoute(app, next)
}
