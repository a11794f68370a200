// POST /v1/admin/backup (admin only): an online backup of the PGlite database, taken by the service
// that holds it (take.ts) and sent back as the backup file. One at a time; every backup — and
// every failed one — is in the audit log with its SHA-256. On PostgreSQL the route refuses: the
// database is backed up by pg_basebackup and WAL archiving (docs/reserves/backup.md).
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { Sql } from '../../kernel/sql.ts'
import { BackupErrorCode } from './errors.ts'
import { createBackupMetrics } from './metrics.ts'
import { takeBackup } from './take.ts'

export interface BackupRouteDeps {
  sql: Sql
  /** The service's role guard (onRequest hook: authenticates, checks the role, charges the rate limit). */
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
  registry: Registry
  logger: Logger
  clockMs?: () => number
}

export async function backupRoutes(app: FastifyInstance, d: BackupRouteDeps): Promise<void> {
  const metrics = createBackupMetrics(d.registry)
  const clock = d.clockMs ?? Date.now
  let running = false

  app.post('/v1/admin/backup', d.guard(['admin']), async (req, reply) => {
    if (d.sql.driver !== 'pglite')
      throw new CairnError(BackupErrorCode.UNSUPPORTED, 'this service stores its data in PostgreSQL', {
        fault: 'caller',
        hint: 'back PostgreSQL up with pg_basebackup and WAL archiving (docs/reserves/backup.md)',
      })
    if (running)
      throw new CairnError(BackupErrorCode.BUSY, 'a backup is being taken already', {
        fault: 'transient',
        hint: 'wait for it to finish, then ask again',
      })
    running = true
    const p = d.who(req)
    const started = clock()
    try {
      const b = await takeBackup(d.sql, { mode: 'online', now: new Date(started), clockMs: clock })
      const seconds = (clock() - started) / 1000
      await appendAudit(d.sql, {
        actor: p.sub,
        role: p.role,
        action: 'backup.taken',
        details: {
          sha256: b.sha256,
          bytes: b.archive.byteLength,
          schemaVersion: b.manifest.schemaVersion,
          snapshots: b.manifest.snapshots.length,
          auditHead: b.manifest.audit?.head ?? null,
        },
      })
      metrics.backups.inc({ result: 'ok' })
      metrics.lastSuccess.set(Math.floor(clock() / 1000))
      metrics.lastBytes.set(b.archive.byteLength)
      metrics.lastSeconds.set(seconds)
      d.logger.info(
        { sha256: b.sha256, bytes: b.archive.byteLength, seconds, heldSeconds: b.heldMs / 1000, by: p.sub },
        'backup taken',
      )
      const name = `reserves-${b.manifest.createdAt.replace(/[:.]/g, '-')}.cairn-backup`
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .header('x-cairn-backup-sha256', b.sha256)
        .send(b.archive)
    } catch (err) {
      metrics.backups.inc({ result: 'failed' })
      d.logger.error({ err }, 'backup failed')
      await appendAudit(d.sql, {
        actor: p.sub,
        role: p.role,
        action: 'backup.failed',
        details: { error: (err as Error).message },
      }).catch(() => {})
      throw err
    } finally {
      running = false
    }
  })
}
