/** Stable error codes of @cairn/reserves (never reused once published). */
export const ReservesErrorCode = {
  /** The snapshot input has bad rows; `meta.errors` lists them. */
  INPUT_INVALID: 'RESERVES_INPUT_INVALID',
  /** A balance or a sum does not fit in u128. */
  OVERFLOW: 'RESERVES_OVERFLOW',
  /** Two entries share a user id. */
  DUPLICATE_USER: 'RESERVES_DUPLICATE_USER',
  /** The currencies or options of a snapshot are unusable. */
  BAD_OPTIONS: 'RESERVES_BAD_OPTIONS',
  /** No such user in the snapshot. */
  USER_UNKNOWN: 'RESERVES_USER_UNKNOWN',
  /** No such snapshot. */
  SNAPSHOT_UNKNOWN: 'RESERVES_SNAPSHOT_UNKNOWN',
  /** The snapshot exists but is not built (yet, or it failed). */
  SNAPSHOT_NOT_READY: 'RESERVES_SNAPSHOT_NOT_READY',
  /** A tree directory or a stored tree is unreadable or inconsistent. */
  TREE_CORRUPT: 'RESERVES_TREE_CORRUPT',
  /** Missing, invalid or expired credentials. */
  UNAUTHENTICATED: 'RESERVES_UNAUTHENTICATED',
  /** The credentials do not allow this action. */
  FORBIDDEN: 'RESERVES_FORBIDDEN',
  /** The database could not be reached or a migration failed. */
  STORAGE_FAILED: 'RESERVES_STORAGE_FAILED',
  /** The at-rest encryption key is missing, malformed, or does not decrypt a row. */
  KEY_INVALID: 'RESERVES_KEY_INVALID',
  /** The chain refused or could not find an anchor. */
  ANCHOR_FAILED: 'RESERVES_ANCHOR_FAILED',
  /** The audit chain does not verify (a row was edited or deleted). */
  AUDIT_BROKEN: 'RESERVES_AUDIT_BROKEN',
  /** A tree build failed inside (a worker thread died). */
  BUILD_FAILED: 'RESERVES_BUILD_FAILED',
} as const
