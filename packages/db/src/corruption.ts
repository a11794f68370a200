import { CairnError } from '@cairn/utils'
import { DbErrorCode } from './errors.ts'

/** True when LevelDB reported corrupted files (classic-level's `LEVEL_CORRUPTION`), directly or as a cause. */
export function isCorruption(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'LEVEL_CORRUPTION' || e.code === DbErrorCode.CORRUPT) return true
    if (typeof e.message === 'string' && /^Corruption: /.test(e.message)) return true
  }
  return false
}

/**
 * Told of every read that found the database corrupted (a {@link DbErrorCode.CORRUPT} error, before
 * it is thrown): the node logs it, counts it and reports itself not ready. Never throws.
 */
export type CorruptionSink = (err: CairnError) => void

/**
 * The error of a stored entry that LevelDB returned but that is not what was written: it does not
 * decode, does not hash to its key, or an entry the store's indexes promise is missing. `LevelKV`
 * verifies LevelDB's block checksums on every read, so damaged bytes inside a table are a LevelDB
 * corruption error; these checks stay for what a checksum cannot see (an entry lost with its whole
 * block, a store written wrong, a `MemoryKV`). `entry` names it (`header 0x…`, `block #228`),
 * without the datadir's path.
 */
export function storedEntryCorrupt(entry: string, problem: string, cause?: unknown): CairnError {
  return new CairnError(DbErrorCode.CORRUPT, `the chain database is corrupted: ${entry} ${problem}`, {
    // Not the node's bug, nor the caller's request: the datadir's files. 'caller' as the open's
    // (below): the one who runs the node must restore them, and a request never logs it again.
    fault: 'caller',
    ...(cause === undefined ? {} : { cause }),
    meta: { entry },
    hint: 'run `cairn db check` on the stopped node; restore a backup: cairn db restore <backup dir> --datadir <datadir> --force (docs/operations/backup-and-recovery.md)',
  })
}

/**
 * The error of a corrupted database: what LevelDB found, and what to do about it. The datadir's
 * own files are damaged (a disk fault, a copy taken while the node ran): the node cannot repair
 * them, a backup can replace them.
 */
export function corruptionError(err: unknown, path: string): CairnError {
  const detail = ((err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message) || 'corrupted'
  const datadir = path.replace(/\/chaindata\/?$/, '')
  return new CairnError(DbErrorCode.CORRUPT, `the chain database at ${path} is corrupted (LevelDB: ${detail})`, {
    fault: 'caller',
    cause: err,
    hint: `restore a backup: cairn db restore <backup dir> --datadir ${datadir} --force (docs/operations/backup-and-recovery.md)`,
  })
}
