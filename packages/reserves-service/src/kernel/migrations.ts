import { type Migration, migrate as runMigrations } from '@cairn/service-kit/sql'
import type { Sql } from './sql.ts'

/**
 * The kernel's schema migrations, 1 to 3: snapshots, levels, users, the audit log, build jobs. The
 * features add theirs (each in its `schema.ts`, the chain of snapshots in `chain.ts`); `../schema.ts`
 * lists them all in order. Never edit a published migration: add the next one.
 */
export const KERNEL_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'snapshots, levels, users, audit',
    sql: `
CREATE TABLE reserves_snapshots (
  id          text PRIMARY KEY,
  seq         bigserial UNIQUE,
  status      text NOT NULL,             -- building | built | failed
  hash        text NOT NULL,
  currencies  jsonb NOT NULL,
  min_depth   integer NOT NULL,
  depth       integer,
  user_count  integer NOT NULL,
  root_hash   text,
  totals      jsonb,
  error       text,
  anchor      jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  built_at    timestamptz
);
-- one row per tree level: hashes (32 bytes per node) and sums (16 bytes x currencies per node)
CREATE TABLE reserves_levels (
  snapshot_id text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  level       integer NOT NULL,
  hashes      bytea NOT NULL,
  balances    bytea NOT NULL,
  PRIMARY KEY (snapshot_id, level)
);
-- user ids and salts are encrypted at rest (AES-256-GCM); user_key = HMAC-SHA256(key, user id) for lookups
CREATE TABLE reserves_users (
  snapshot_id  text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  user_key     bytea NOT NULL,
  key_id       text NOT NULL,
  user_id_enc  bytea NOT NULL,
  salt_enc     bytea NOT NULL,
  leaf_index   integer NOT NULL,
  PRIMARY KEY (snapshot_id, user_key)
);
CREATE TABLE reserves_audit (
  seq        bigint PRIMARY KEY,
  at         timestamptz NOT NULL,
  actor      text NOT NULL,
  role       text NOT NULL,
  action     text NOT NULL,
  details    jsonb NOT NULL,
  prev_hash  text NOT NULL,
  hash       text NOT NULL
);`,
  },
  {
    version: 2,
    name: 'level blobs stored uncompressed (proof reads fetch slices)',
    // substring() on a compressed TOAST value decompresses all of it: for a 2^20-leaf level that is
    // tens of MB per sibling read. EXTERNAL (out of line, uncompressed) lets PostgreSQL fetch only
    // the chunks a slice touches. Hashes barely compress anyway; sums of padding leaves do.
    sql: `
ALTER TABLE reserves_levels ALTER COLUMN hashes SET STORAGE EXTERNAL;
ALTER TABLE reserves_levels ALTER COLUMN balances SET STORAGE EXTERNAL;`,
  },
  {
    version: 3,
    name: 'build jobs with leases, stored build input, levels in chunks',
    // A build is a job: any worker claims it with a lease (FOR UPDATE SKIP LOCKED), renews it while
    // it builds, and a crashed worker's job is claimed again once its lease runs out; `attempts` is
    // the fencing token (the finishing transaction must still hold the lease it claimed). The input
    // is kept (sealed) until the build is done, so a retry needs no re-upload. Levels are written
    // in chunks of `level_chunk` nodes (short statements; NULL: one row per level, as before).
    sql: `
CREATE TABLE reserves_jobs (
  snapshot_id  text PRIMARY KEY REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  state        text NOT NULL,            -- queued | running | done | failed | cancelled
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  lease_owner  text,
  lease_until  timestamptz,
  not_before   timestamptz NOT NULL DEFAULT now(),
  last_error   text,
  progress     integer NOT NULL DEFAULT 0,   -- users stored by the current attempt (at its last lease renewal)
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reserves_jobs_claimable ON reserves_jobs (state, not_before);
CREATE TABLE reserves_build_input (
  snapshot_id text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  part        integer NOT NULL,
  data        bytea NOT NULL,
  PRIMARY KEY (snapshot_id, part)
);
ALTER TABLE reserves_snapshots ADD COLUMN level_chunk integer;
ALTER TABLE reserves_levels ADD COLUMN chunk integer NOT NULL DEFAULT 0;
ALTER TABLE reserves_levels DROP CONSTRAINT reserves_levels_pkey;
ALTER TABLE reserves_levels ADD PRIMARY KEY (snapshot_id, level, chunk);`,
  },
]

/**
 * Brings the schema to the latest of `migrations` (service-kit's runner: in order, one transaction
 * each, under an advisory lock; applied versions are recorded in `reserves_migrations`); returns the
 * versions it applied.
 */
export function runReservesMigrations(sql: Sql, migrations: readonly Migration[]): Promise<number[]> {
  return runMigrations(sql, migrations, { table: 'reserves_migrations', lockId: 707070 })
}
