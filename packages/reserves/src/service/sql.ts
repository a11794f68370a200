import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'

/** A row as the drivers return it. */
export type Row = Record<string, unknown>

/**
 * The SQL seam: one PostgreSQL dialect, two drivers (PGlite embedded, `pg` for a server). Parameters
 * are `$1…`; bytea columns take and give Uint8Array.
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

/** Wraps a driver failure as a transient storage error. */
export function storageError(err: unknown, what: string): CairnError {
  if (err instanceof CairnError) return err
  return new CairnError(ReservesErrorCode.STORAGE_FAILED, `${what}: ${(err as Error).message}`, {
    fault: 'transient',
    cause: err,
    hint: 'check that the database is reachable (DATABASE_URL) or that the datadir is writable',
  })
}
