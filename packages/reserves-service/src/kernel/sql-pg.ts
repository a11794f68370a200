import { openPostgres as open } from '@cairn/service-kit/sql'
import { type Sql, storageError } from './sql.ts'

/** Connects to a PostgreSQL server through a `pg` pool (`connectionString` as in DATABASE_URL). */
export function openPostgres(connectionString: string, max = 10): Promise<Sql> {
  return open(connectionString, { max, wrapError: storageError })
}
