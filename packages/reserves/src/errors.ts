import type { RowError } from './input/rows.ts'

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
  /** A build's lease was taken over (its worker stalled past the lease, or the operator cancelled it). */
  BUILD_LEASE_LOST: 'RESERVES_BUILD_LEASE_LOST',
  /** A snapshot with this id exists already (building or built: ids are never reused). */
  SNAPSHOT_EXISTS: 'RESERVES_SNAPSHOT_EXISTS',
  /** No build job can do what was asked (none for the snapshot, or not in a state that allows it). */
  BUILD_STATE: 'RESERVES_BUILD_STATE',
  /** Too many requests from this caller within the window (429, Retry-After). */
  RATE_LIMITED: 'RESERVES_RATE_LIMITED',
  /** The Host header (or a WebSocket's Origin) is not one this service answers for (403). */
  INVALID_HOST: 'RESERVES_INVALID_HOST',
  /** A POST whose Content-Type the service does not take (415). */
  UNSUPPORTED_MEDIA_TYPE: 'RESERVES_UNSUPPORTED_MEDIA_TYPE',
  /** The client holds more connections than its IP may (429). */
  CONNECTION_LIMIT: 'RESERVES_CONNECTION_LIMIT',
  /** The service sheds load while its event loop lags (503, Retry-After). */
  OVERLOADED: 'RESERVES_OVERLOADED',
  /** No webhook endpoint with this id. */
  WEBHOOK_UNKNOWN: 'RESERVES_WEBHOOK_UNKNOWN',
  /** No such delivery, or not in a state that allows the action (redeliver a pending one). */
  WEBHOOK_DELIVERY_STATE: 'RESERVES_WEBHOOK_DELIVERY_STATE',
  /** No declared asset source with this id. */
  ASSET_SOURCE_UNKNOWN: 'RESERVES_ASSET_SOURCE_UNKNOWN',
  /** No reconciliation run with this id (or none finished yet for the snapshot asked about). */
  RECONCILIATION_UNKNOWN: 'RESERVES_RECONCILIATION_UNKNOWN',
  /** A chain's JSON-RPC endpoint failed or answered something unusable: the reconciliation run failed. */
  RECONCILIATION_READ_FAILED: 'RESERVES_RECONCILIATION_READ_FAILED',
  /** The ledger refuses: an idempotency key reused with another body, or its currencies changed while it holds balances. */
  LEDGER_CONFLICT: 'RESERVES_LEDGER_CONFLICT',
} as const
export type ReservesErrorCode = (typeof ReservesErrorCode)[keyof typeof ReservesErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    reserves: ReservesErrorCode
  }
  interface CairnErrorMetas {
    /** Either the whole input's bad rows (the reader) or the one entry at fault (the tree builder). */
    RESERVES_INPUT_INVALID: { errorCount: number; errors: RowError[] } | { row: number; userId: string }
  }
}
