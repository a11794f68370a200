// `cairn reserves builds list / cancel / retry` and `cairn reserves audit verify`: straight on the
// database (stop a PGlite service first; a running one answers GET /v1/builds).
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { verifyAuditWithCheckpoint } from '../features/compliance/audit-checkpoint.ts'
import { cancelBuild, retryBuild } from '../jobs/build-admin.ts'
import { BuildJobs } from '../jobs/jobs.ts'
import { SnapshotStore } from '../kernel/store.ts'
import { openSecrets } from './serve-secrets.ts'
import { openStorage, type StorageFlags } from './storage.ts'

/** The database, `--database-url` read through the secrets when it is a reference (env:, age:, file:). */
async function openResolved(o: StorageFlags) {
  const databaseUrl = o.databaseUrl
    ? await openSecrets(undefined, process.env).resolve(o.databaseUrl, '--database-url')
    : undefined
  return openStorage({ datadir: o.datadir, ...(databaseUrl ? { databaseUrl } : {}) })
}

/** `cairn reserves builds …`: the snapshot build queue. */
export function registerBuildCommands(r: Command): void {
  const b = r
    .command('builds')
    .description(
      'The snapshot build queue, straight on the database (stop a PGlite service first; or use GET /v1/builds)',
    )
  const storage = (c: Command) =>
    c
      .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
      .option('--database-url <url>', 'PostgreSQL connection string, or a secret holding it (env:NAME, age:FILE#NAME)')
  storage(
    b
      .command('list')
      .description('Builds not done (queued, running — with their worker and lease —, failed, cancelled)'),
  )
    .option('--all', 'done ones too')
    .option('--json', 'JSON instead of a table')
    .action(async (o: StorageFlags & { all?: boolean; json?: boolean }) => {
      const sql = await openResolved(o)
      try {
        const items = await new BuildJobs(sql).list(Boolean(o.all), 1000)
        if (o.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`)
        if (items.length === 0) return void process.stdout.write('no builds\n')
        for (const j of items)
          process.stdout.write(
            `${j.snapshotId}\t${j.state}${j.stale ? ' (stale: its worker is gone)' : ''}\tattempts ${j.attempts}/${j.maxAttempts}` +
              `${j.leaseOwner ? `\tworker ${j.leaseOwner} until ${j.leaseUntil}` : ''}${j.lastError ? `\t${j.lastError}` : ''}\n`,
          )
      } finally {
        await sql.close()
      }
    })
  storage(
    b
      .command('cancel <snapshot>')
      .description('Stop a queued or running build: its rows removed, the snapshot failed, its id free again'),
  )
    .option('--by <name>', 'who cancels (the audit entry)', 'cli')
    .action(async (id: string, o: StorageFlags & { by: string }) => {
      const sql = await openResolved(o)
      try {
        const key = { id: 'cli', key: new Uint8Array(32) } // rows are removed, never read: no key needed
        const j = await cancelBuild({ sql, jobs: new BuildJobs(sql), store: new SnapshotStore(sql, key) }, id, {
          sub: o.by,
          role: 'admin',
        })
        process.stdout.write(`cancelled: ${j.snapshotId} (${j.state})\n`)
      } finally {
        await sql.close()
      }
    })
  storage(b.command('retry <snapshot>').description('Queue a failed or cancelled build again from its stored input'))
    .option('--by <name>', 'who retries (the audit entry)', 'cli')
    .action(async (id: string, o: StorageFlags & { by: string }) => {
      const sql = await openResolved(o)
      try {
        const j = await retryBuild({ sql, jobs: new BuildJobs(sql) }, id, { sub: o.by, role: 'admin' })
        process.stdout.write(`queued again: ${j.snapshotId}\n`)
      } finally {
        await sql.close()
      }
    })
}

/** `cairn reserves audit verify`: the audit log's hash chain. */
export function registerAuditCommand(r: Command): void {
  r.command('audit')
    .description('Audit log tools')
    .command('verify')
    .description('Check the hash chain of the audit log (detects edited or deleted rows)')
    .option('--datadir <dir>', 'where PGlite keeps its data', './.cairn/reserves')
    .option('--database-url <url>', 'PostgreSQL connection string, or a secret holding it (env:NAME, age:FILE#NAME)')
    .option('--head <hash>', 'the head hash recorded earlier (detects deleted newest rows)')
    .action(async (o: StorageFlags & { head?: string }) => {
      const sql = await openResolved(o)
      try {
        const r = await verifyAuditWithCheckpoint(sql, o.head)
        if (!r.ok)
          throw new CairnError(
            ReservesErrorCode.AUDIT_BROKEN,
            `the audit log is broken at entry ${r.seq}: ${r.reason}`,
            {
              fault: 'caller',
            },
          )
        process.stdout.write(`OK: ${r.count} entries, head ${r.head}\n`)
      } finally {
        await sql.close()
      }
    })
}
