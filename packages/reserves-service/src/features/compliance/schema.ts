import type { Migration } from '@cairn/service-kit/sql'

/**
 * Migration 6 (listed in src/schema.ts): erasures and retired snapshots.
 *
 * - `reserves_erasures`: one row per snapshot a user was erased from (GDPR erasure). `ref` is the
 *   audit log's keyed ref of the user in that snapshot (the first 16 bytes of
 *   HMAC(at-rest key, snapshot ‖ 0 ‖ user id), hex): no id, no salt, no balance. It lets the
 *   service answer "erased on …" instead of "unknown", and stop serving cached proofs.
 * - `reserves_snapshots.retired`: set when the retention policy archived or deleted a snapshot's
 *   tree and users (`{mode, at, archive?}`); the row itself stays (`status` archived | deleted),
 *   so its id is never reused and its root, totals and anchor stay readable.
 */
export const COMPLIANCE_MIGRATION: Migration = {
  version: 6,
  name: 'erasures, retired snapshots',
  sql: `
CREATE TABLE reserves_erasures (
  seq         bigserial PRIMARY KEY,
  snapshot_id text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  ref         text NOT NULL,
  erased_at   timestamptz NOT NULL,
  UNIQUE (snapshot_id, ref)
);
ALTER TABLE reserves_snapshots ADD COLUMN retired jsonb;`,
}
