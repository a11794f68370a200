// @cairn/service-kit/sql: the services' PostgreSQL seam (PGlite embedded, `pg` for a server) and
// the versioned migration runner. A subpath of its own so services without storage never load a driver.
export type { MigrateOptions, Migration } from './migrate.ts'
export { appliedVersions, migrate } from './migrate.ts'
export type { PostgresOptions } from './pg.ts'
export { clientWithPassword, openPostgres } from './pg.ts'
export { openPglite } from './pglite.ts'
export type { Row, Sql, StorageErrorWrap } from './sql.ts'
export { storageFailed } from './sql.ts'
