// Where `serve` and the database commands keep their data (PGlite in --datadir, or PostgreSQL), and
// `serve --dev`'s generated secrets (the others are read in serve-secrets.ts).
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Sql } from '../kernel/sql.ts'
import { openPostgres } from '../kernel/sql-pg.ts'
import { openPgliteThread } from '../kernel/sql-pglite.ts'
import { migrate } from '../schema.ts'

export interface StorageFlags {
  datadir: string
  databaseUrl?: string
}

/**
 * The database, migrated to the latest schema. `databaseUrl` is the URL itself (a reference already
 * resolved); `password`, when given, is asked for every new connection.
 */
export async function openStorage(o: StorageFlags, password?: () => Promise<string>): Promise<Sql> {
  if (!o.databaseUrl) mkdirSync(o.datadir, { recursive: true })
  // PGlite on its own thread: its statements never hold the serving thread's event loop
  const sql = o.databaseUrl
    ? await openPostgres(o.databaseUrl, 10, password)
    : await openPgliteThread(join(o.datadir, 'pgdata'))
  await migrate(sql)
  return sql
}

/**
 * `serve --dev`'s secrets: an at-rest key and an HS256 secret (32 random bytes each, hex) in
 * DATADIR/dev, created once with mode 0600 (exclusive create: an existing file is kept) and reused.
 */
export function devSecrets(datadir: string): { dir: string; keyFile: string; jwtSecretFile: string } {
  const dir = join(datadir, 'dev')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const keyFile = join(dir, 'at-rest.key')
  const jwtSecretFile = join(dir, 'jwt.secret')
  for (const file of [keyFile, jwtSecretFile]) {
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return { dir, keyFile, jwtSecretFile }
}
