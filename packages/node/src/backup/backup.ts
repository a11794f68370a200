import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { checkChain, openStoredChain } from '@cairn/chain'
import { copySnapshot, digestTree, type KVStore, LevelKV, verifyTree } from '@cairn/db'
import { bytesToHex, CairnError } from '@cairn/utils'
import { NodeErrorCode } from '../errors.ts'
import { VERSION } from '../version.ts'
import { type BackupManifest, MANIFEST_FILE, readManifest, writeManifest } from './manifest.ts'

/** The LevelDB copy inside a backup directory. */
export const BACKUP_CHAINDATA = 'chaindata'

/**
 * Takes a consistent backup of a chain store into `outDir` (which must not exist, or be empty):
 * a LevelDB snapshot is copied into a new LevelDB (`outDir/chaindata`), the copy is opened and
 * its head's state trie walked, then `manifest.json` lists every file with its SHA-256. The work
 * happens in a sibling `.partial` directory renamed at the end, so a failed or killed backup
 * never leaves a directory that looks complete.
 */
export async function createBackup(kv: KVStore, outDir: string): Promise<BackupManifest> {
  const out = resolve(outDir)
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new CairnError(NodeErrorCode.BACKUP_TARGET_NOT_EMPTY, `backup target ${out} exists and is not empty`, {
      fault: 'caller',
      hint: 'choose a new directory for every backup',
    })
  }
  mkdirSync(dirname(out), { recursive: true })
  const partial = `${out}.partial-${process.pid}-${Date.now()}`
  const snapshot = kv.snapshot()
  try {
    let entries: number
    try {
      ;({ entries } = await copySnapshot(snapshot, join(partial, BACKUP_CHAINDATA)))
    } finally {
      await snapshot.close()
    }
    const chain = await inspect(join(partial, BACKUP_CHAINDATA))
    const manifest: BackupManifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      cairnVersion: VERSION,
      chain,
      entries,
      files: await digestTree(partial),
    }
    writeManifest(partial, manifest)
    if (existsSync(out)) rmSync(out, { recursive: true })
    renameSync(partial, out)
    return manifest
  } catch (err) {
    rmSync(partial, { recursive: true, force: true })
    throw err
  }
}

/** Opens a chaindata copy, checks the head's block and state, and reports the chain it holds. */
async function inspect(chaindata: string): Promise<BackupManifest['chain']> {
  const kv = new LevelKV({ path: chaindata, cacheSize: 8 * 1024 * 1024 })
  await kv.open()
  try {
    const view = await openStoredChain(kv)
    const report = await checkChain(view, { last: 1, stateSamples: 0 })
    if (!report.head || report.problems.length > 0) {
      throw new CairnError(
        NodeErrorCode.BACKUP_INCONSISTENT,
        `the backup's database is inconsistent: ${report.problems.map((p) => p.message).join('; ')}`,
        { fault: 'internal', hint: 'run `cairn db check` on the source datadir' },
      )
    }
    const genesisHash = await view.blocks.getCanonicalHash(0n)
    return {
      chainId: view.genesis.chainId.toString(),
      genesisHash: genesisHash ? bytesToHex(genesisHash) : '0x',
      headNumber: report.head.number.toString(),
      headHash: report.head.hash,
      stateRoot: report.head.stateRoot,
    }
  } finally {
    await kv.close()
  }
}

/** What `verify-backup` found. */
export interface BackupVerification {
  manifest: BackupManifest
  problems: string[]
}

/**
 * Verifies a backup: every file's size and SHA-256 against the manifest (naming each file that
 * differs, is missing or is not listed), then opens a scratch copy of the database (opening
 * LevelDB rewrites its own files, so the backup itself is never opened) and checks that the
 * head, its state trie and the chain match the manifest.
 */
export async function verifyBackup(dir: string): Promise<BackupVerification> {
  const root = resolve(dir)
  const manifest = readManifest(root)
  const problems = (await verifyTree(root, manifest.files, (p) => p === MANIFEST_FILE)).map((p) => p.message)
  if (problems.length > 0) return { manifest, problems }
  const scratch = mkdtempSync(join(tmpdir(), 'cairn-verify-'))
  try {
    cpSync(join(root, BACKUP_CHAINDATA), join(scratch, BACKUP_CHAINDATA), { recursive: true })
    const chain = await inspect(join(scratch, BACKUP_CHAINDATA))
    for (const key of Object.keys(chain) as (keyof typeof chain)[]) {
      if (chain[key] !== manifest.chain[key]) {
        problems.push(`the database's ${key} is ${chain[key]}, the manifest says ${manifest.chain[key]}`)
      }
    }
  } catch (err) {
    problems.push((err as Error).message)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  return { manifest, problems }
}

/**
 * Restores a verified backup into `datadir/chaindata`. Refuses a datadir that already holds a
 * chain unless `force` (which replaces the chain, keeping keys and everything else). Files are
 * copied into a sibling directory first and renamed into place.
 */
export async function restoreBackup(dir: string, datadir: string, force: boolean): Promise<BackupManifest> {
  const { manifest, problems } = await verifyBackup(dir)
  if (problems.length > 0) {
    throw new CairnError(
      NodeErrorCode.BACKUP_INVALID,
      `backup ${resolve(dir)} does not verify: ${problems.join('; ')}`,
      {
        fault: 'caller',
        hint: 'restore another backup',
      },
    )
  }
  const root = resolve(datadir)
  const target = join(root, 'chaindata')
  if (existsSync(target) && readdirSync(target).length > 0 && !force) {
    throw new CairnError(NodeErrorCode.RESTORE_TARGET_NOT_EMPTY, `datadir ${root} already holds a chain`, {
      fault: 'caller',
      hint: 'restore into an empty datadir, or add --force to replace its chain (stop the node first)',
    })
  }
  if (existsSync(target)) {
    // Refuses a datadir a running node holds (LevelDB's lock); never replace files under it.
    const probe = new LevelKV({ path: target, cacheSize: 1024 * 1024 })
    await probe.open()
    await probe.close()
  }
  mkdirSync(root, { recursive: true, mode: 0o700 })
  const staging = `${target}.restoring-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  cpSync(join(resolve(dir), BACKUP_CHAINDATA), staging, { recursive: true })
  if (existsSync(target)) rmSync(target, { recursive: true })
  renameSync(staging, target)
  return manifest
}
