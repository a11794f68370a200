import { CairnError } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'

/** A row as the drivers return it. */
export type Row = Record<string, unknown>

/**
 * The SQL seam of Cairn's services: one PostgreSQL dialect, two drivers (PGlite embedded, `pg` for a
 * server). Parameters are `$1…`; bytea columns take and give Uint8Array.
 */
export interface Sql {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>
  /** Runs several statements without parameters (migrations). */
  exec(text: string): Promise<void>
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on a throw). */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly driver: 'pglite' | 'pg'
}

/** Turns a driver failure into the service's own error (each service names its storage code). */
export type StorageErrorWrap = (err: unknown, what: string) => CairnError

/** The default wrap: a transient SERVICE_STORAGE_FAILED. */
export const storageFailed: StorageErrorWrap = (err, what) => {
  if (err instanceof CairnError) return err
  return new CairnError(ServiceErrorCode.STORAGE_FAILED, `${what}: ${(err as Error).message}`, {
    fault: 'transient',
    cause: err,
    hint: 'check that the database is reachable (--database-url) or that the datadir is writable',
  })
}
