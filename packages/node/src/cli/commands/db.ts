import { join } from 'node:path'
import { type CheckReport, checkChain, openStoredChain } from '@cairn/chain'
import { DbErrorCode, LevelKV } from '@cairn/db'
import { CairnError, isCairnError } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { ADMIN_SOCKET, adminRequest } from '../../backup/admin-socket.ts'
import { createBackup, restoreBackup, verifyBackup } from '../../backup/backup.ts'
import type { BackupManifest } from '../../backup/manifest.ts'
import { datadirLayout } from '../../datadir.ts'
import { NodeErrorCode } from '../../errors.ts'

function positiveInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

/** Opens a datadir's chaindata; a datadir in use by a running node gives a clear error. */
async function openChaindata(datadir: string): Promise<LevelKV> {
  const layout = datadirLayout(datadir)
  const kv = new LevelKV({ path: layout.chaindata, cacheSize: 16 * 1024 * 1024 })
  await kv.open()
  return kv
}

function printCheck(report: CheckReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`)
    return
  }
  for (const p of report.problems) process.stdout.write(`problem [${p.kind}] ${p.message}\n`)
  const head = report.head ? `head ${report.head.number} ${report.head.hash}` : 'no head'
  const s = report.state
  process.stdout.write(
    `${head}\nchecked blocks ${report.from}..${report.to} (${report.blocksChecked} blocks, ${report.transactionsChecked} transactions)\n` +
      `state roots recomputed: ${report.stateRootsWalked.length} (${s.nodes} trie nodes, ${s.accounts} accounts, ${s.storageSlots} storage slots, ${s.codes} codes)\n` +
      `${report.problems.length === 0 ? 'OK: no inconsistency found' : `FAILED: ${report.problems.length} problem(s)`}\n`,
  )
}

function printManifest(dir: string, m: BackupManifest): void {
  const bytes = m.files.reduce((s, f) => s + f.size, 0)
  process.stdout.write(
    `backup ${dir}\n  chain ${m.chain.chainId}, head ${m.chain.headNumber} ${m.chain.headHash}\n  state root ${m.chain.stateRoot}\n  ${m.files.length} files, ${bytes} bytes, ${m.entries} entries, created ${m.createdAt}\n`,
  )
}

function printCorrupt(err: CairnError, json: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, problems: [{ kind: 'corrupt', message: err.message }], hint: err.hint })}\n`,
    )
    return
  }
  process.stdout.write(`PROBLEM: ${err.message}\n  ${err.hint}\n`)
}

/** Registers `cairn db check|backup|verify-backup|restore`. */
export function registerDb(program: Command): void {
  const db = program.command('db').description('check, back up and restore the chain database')

  db.command('check')
    .description('verify the chain database: blocks, receipts, indexes and state roots (the node must be stopped)')
    .requiredOption('--datadir <dir>', 'the datadir to check')
    .option('--last <n>', 'check only the last N blocks', positiveInt)
    .option('--full-state', 'recompute the state root of every block checked (default: the head and a sample)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExits 0 when consistent, 1 when any problem is found.\n\nExamples:\n  $ cairn db check --datadir ./.cairn/dev\n  $ cairn db check --datadir ./.cairn/dev --last 100 --full-state\n',
    )
    .action(async (opts: { datadir: string; last?: number; fullState?: boolean; json?: boolean }) => {
      let kv: LevelKV | undefined
      try {
        kv = await openChaindata(opts.datadir)
        const view = await openStoredChain(kv)
        const report = await checkChain(view, {
          ...(opts.last !== undefined ? { last: opts.last } : {}),
          fullState: opts.fullState === true,
        })
        printCheck(report, opts.json === true)
        if (report.problems.length > 0) process.exitCode = 1
      } catch (err) {
        // Damaged files are a finding of the check, reported as one (exit 1), not a crash.
        if (!isCairnError(err, DbErrorCode.CORRUPT)) throw err
        printCorrupt(err, opts.json === true)
        process.exitCode = 1
      } finally {
        await kv?.close()
      }
    })

  db.command('backup')
    .description('take a consistent backup (a database snapshot) into a new directory, also while the node runs')
    .requiredOption('--datadir <dir>', 'the datadir to back up')
    .requiredOption('--out <dir>', 'a new (or empty) directory for the backup')
    .addHelpText(
      'after',
      '\nA running node holds the database lock: the backup is then taken by the node itself, asked\nthrough its admin socket (DATADIR/admin.sock).\n\nExample:\n  $ cairn db backup --datadir ./.cairn/dev --out /backups/cairn-2025-01-01\n',
    )
    .action(async (opts: { datadir: string; out: string }) => {
      const layout = datadirLayout(opts.datadir)
      const viaNode = (await adminRequest(join(layout.root, ADMIN_SOCKET), {
        op: 'backup',
        out: resolveOut(opts.out),
      })) as BackupManifest | undefined
      if (viaNode) {
        printManifest(resolveOut(opts.out), viaNode)
        process.stdout.write('  taken by the running node\n')
        return
      }
      const kv = await openChaindata(opts.datadir)
      try {
        printManifest(resolveOut(opts.out), await createBackup(kv, resolveOut(opts.out)))
      } finally {
        await kv.close()
      }
    })

  db.command('verify-backup')
    .description('check a backup: every file against its SHA-256, then the head and its state')
    .argument('<dir>', 'the backup directory')
    .addHelpText(
      'after',
      '\nExits 0 when the backup verifies, 1 otherwise.\n\nExample:\n  $ cairn db verify-backup /backups/cairn-2025-01-01\n',
    )
    .action(async (dir: string) => {
      const { manifest, problems } = await verifyBackup(dir)
      printManifest(dir, manifest)
      for (const p of problems) process.stdout.write(`problem: ${p}\n`)
      process.stdout.write(problems.length === 0 ? 'OK: backup verifies\n' : `FAILED: ${problems.length} problem(s)\n`)
      if (problems.length > 0) process.exitCode = 1
    })

  db.command('restore')
    .description('restore a backup into an empty datadir (the node must be stopped)')
    .argument('<dir>', 'the backup directory')
    .requiredOption('--datadir <dir>', 'the datadir to restore into')
    .option('--force', "replace the datadir's chain if it holds one")
    .addHelpText('after', '\nExample:\n  $ cairn db restore /backups/cairn-2025-01-01 --datadir ./restored\n')
    .action(async (dir: string, opts: { datadir: string; force?: boolean }) => {
      const m = await restoreBackup(dir, opts.datadir, opts.force === true)
      process.stdout.write(
        `restored chain ${m.chain.chainId} at head ${m.chain.headNumber} ${m.chain.headHash} into ${datadirLayout(opts.datadir).root}\n`,
      )
    })
}

function resolveOut(p: string): string {
  if (!p.trim()) throw new CairnError(NodeErrorCode.BACKUP_TARGET_INVALID, 'empty --out', { fault: 'caller' })
  return join(p.startsWith('/') ? '' : process.cwd(), p)
}
