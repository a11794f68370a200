import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'

// The seam itself lives in @cairn/service-kit/sql (shared with the arbitrage service).
export type { Row, Sql } from '@cairn/service-kit/sql'

/** Wraps a driver failure as a transient storage error. */
export function storageError(err: unknown, what: string): CairnError {
  if (err instanceof CairnError) return err
  return new CairnError(ReservesErrorCode.STORAGE_FAILED, `${what}: ${(err as Error).message}`, {
    fault: 'transient',
    cause: err,
    hint: 'check that the database is reachable (DATABASE_URL) or that the datadir is writable',
  })
}
