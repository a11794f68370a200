import { openPglite as open } from '@cairn/service-kit/sql'
import { type Sql, storageError } from './sql.ts'

/** Opens an embedded PostgreSQL (PGlite) in `dataDir`, or in memory when it is null. */
export function openPglite(dataDir: string | null): Promise<Sql> {
  return open(dataDir, { wrapError: storageError })
}
