import { CairnError } from '@cairn/utils'

/** Stable error codes of reserves backups and restores (never reused once published). */
export const BackupErrorCode = {
  /** The archive is not a reserves backup, is damaged (a checksum differs), or does not match its manifest. */
  ARCHIVE_INVALID: 'RESERVES_BACKUP_ARCHIVE_INVALID',
  /** The restore target holds data already (without --force), or a process has the datadir open. */
  TARGET_IN_USE: 'RESERVES_BACKUP_TARGET_IN_USE',
  /** This storage is not backed up by Cairn (PostgreSQL: pg_basebackup and WAL archiving). */
  UNSUPPORTED: 'RESERVES_BACKUP_UNSUPPORTED',
  /** A backup is already being taken by this service. */
  BUSY: 'RESERVES_BACKUP_BUSY',
  /** The restored database does not match the manifest (schema, snapshots, roots, the at-rest key). */
  VERIFY_FAILED: 'RESERVES_BACKUP_VERIFY_FAILED',
} as const
export type BackupErrorCode = (typeof BackupErrorCode)[keyof typeof BackupErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    reservesBackup: BackupErrorCode
  }
}

/** A damaged or foreign archive (the caller's file). */
export function invalidArchive(message: string, hint?: string): CairnError {
  return new CairnError(BackupErrorCode.ARCHIVE_INVALID, message, {
    fault: 'caller',
    hint: hint ?? 'take a new backup, or restore from another copy; nothing was written',
  })
}
