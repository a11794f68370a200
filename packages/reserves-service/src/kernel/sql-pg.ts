import { openPostgres as open } from '@cairn/service-kit/sql'
import { type Sql, storageError } from './sql.ts'

/**
 * Connects to a PostgreSQL server through a `pg` pool (`connectionString` as in DATABASE_URL);
 * `password`, when given, is asked for every new connection (a rotated one applies at once).
 */
export function openPostgres(connectionString: string, max = 10, password?: () => Promise<string>): Promise<Sql> {
  return open(connectionString, { max, wrapError: storageError, ...(password ? { password } : {}) })
}
