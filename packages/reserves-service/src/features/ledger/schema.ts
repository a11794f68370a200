import type { Migration } from '@cairn/service-kit/sql'

/**
 * Migration 7 (listed in src/schema.ts): the live ledger of balances.
 *
 * - `reserves_ledger_state`: one row — the ledger's currencies (fixed once set) and `seq`, the
 *   number of the last change batch. Every writer and every freeze locks it (FOR UPDATE): batches
 *   apply one at a time, and a freeze cuts between two of them.
 * - `reserves_ledger`: each user's current balances. As in the snapshot tables, the id and the
 *   balances are sealed with the at-rest key (bound to the row's lookup key), `user_key` =
 *   HMAC(key, "ledger" ‖ 0 ‖ user id).
 * - `reserves_ledger_requests`: idempotency keys of applied batches and their answers.
 * - `reserves_ledger_cuts`: the rows a freeze copied (in one statement, inside the lock), read back
 *   page by page to make the snapshot's input, then deleted.
 */
export const LEDGER_MIGRATION: Migration = {
  version: 7,
  name: 'the live ledger of balances',
  sql: `
CREATE TABLE reserves_ledger_state (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  currencies jsonb,
  seq        bigint NOT NULL DEFAULT 0
);
INSERT INTO reserves_ledger_state (id) VALUES (true);
CREATE TABLE reserves_ledger (
  user_key     bytea PRIMARY KEY,
  key_id       text NOT NULL,
  user_id_enc  bytea NOT NULL,
  balances_enc bytea NOT NULL,
  version      bigint NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE TABLE reserves_ledger_requests (
  idempotency_key text PRIMARY KEY,
  request_hash    text NOT NULL,
  seq             bigint NOT NULL,
  answer          jsonb NOT NULL,
  at              timestamptz NOT NULL
);
CREATE TABLE reserves_ledger_cuts (
  snapshot_id  text NOT NULL,
  user_key     bytea NOT NULL,
  key_id       text NOT NULL,
  user_id_enc  bytea NOT NULL,
  balances_enc bytea NOT NULL,
  PRIMARY KEY (snapshot_id, user_key)
);`,
}

/**
 * Migration 9 (listed in src/schema.ts): what a freeze with a base reads to list the
 * changes since that base without opening the whole ledger.
 *
 * - `reserves_ledger.version` is already the number of the batch that last wrote the row (its
 *   "changed seq"); an index finds the rows written after a seq.
 * - `reserves_ledger_removed`: a tombstone per removed user (sealed id, as in the ledger; the batch
 *   that removed it last). A user added again keeps a tombstone, which its live row outranks.
 * - `reserves_ledger_freezes`: the batch number each frozen snapshot was cut after (also in its
 *   `snapshot.created` audit entry); a freeze with `base` reads its base's here.
 */
export const LEDGER_INCREMENTAL_MIGRATION: Migration = {
  version: 9,
  name: 'ledger changes since a freeze: changed seq index, tombstones, freeze seqs',
  sql: `
CREATE INDEX reserves_ledger_changed ON reserves_ledger (version);
CREATE TABLE reserves_ledger_removed (
  user_key    bytea PRIMARY KEY,
  key_id      text NOT NULL,
  user_id_enc bytea NOT NULL,
  removed_seq bigint NOT NULL
);
CREATE INDEX reserves_ledger_removed_seq ON reserves_ledger_removed (removed_seq);
CREATE TABLE reserves_ledger_freezes (
  snapshot_id text PRIMARY KEY REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  seq         bigint NOT NULL
);`,
}

/**
 * Migration 10 (listed in src/schema.ts): freeze ids reserved before anything is cut
 * (freeze-ids.ts). A freeze inserts its id here first, with a hash of its parameters; a repeat of
 * the id finds the row: the first freeze's answer (same parameters, once it has one), "in
 * progress" (409, until it has one) or "other parameters" (409). `answer` is null while the freeze
 * runs; a row whose freeze failed is removed, one left by a crash is taken over after a lease.
 */
export const LEDGER_FREEZE_IDS_MIGRATION: Migration = {
  version: 10,
  name: 'ledger freeze ids reserved before the cut',
  sql: `
CREATE TABLE reserves_ledger_freeze_ids (
  id           text PRIMARY KEY,
  request_hash text NOT NULL,
  answer       jsonb,
  reserved_at  timestamptz NOT NULL
);`,
}
