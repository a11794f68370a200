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
