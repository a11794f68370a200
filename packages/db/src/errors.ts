/** Stable error codes of the db domain. Never reuse a retired code. */
export const DbErrorCode = {
  /** The datadir cannot be opened: locked by another process, not writable, or corrupt. */
  OPEN_FAILED: 'DB_OPEN_FAILED',
  /** The store was used after close. */
  NOT_OPEN: 'DB_NOT_OPEN',
  /** A write failed (disk full, I/O error). */
  WRITE_FAILED: 'DB_WRITE_FAILED',
  /** A stored value does not decode: the data is corrupt. */
  CORRUPT: 'DB_CORRUPT',
} as const
export type DbErrorCode = (typeof DbErrorCode)[keyof typeof DbErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    db: DbErrorCode
  }
}
