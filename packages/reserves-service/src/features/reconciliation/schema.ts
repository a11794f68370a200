import type { Migration } from '@cairn/service-kit/sql'

/**
 * Migration 5 (listed in src/schema.ts): the declared assets and the reconciliation runs.
 *
 * - `reserves_asset_sources`: what the custodian declares it holds. `onchain`: an address on an
 *   EVM chain (its native balance, or an ERC-20's `balanceOf` when `token` is set) read over the
 *   JSON-RPC URL, sealed with the at-rest key (AAD `asset-source:<id>`: provider URLs carry API
 *   keys) — `rpc_origin` is what the API and the audit log show. `offchain`: an amount attested by
 *   someone as of a date. `amount` and balances read are integers at `decimals`.
 * - `reserves_reconciliations`: one row per run, a job any instance may claim with a lease (FOR
 *   UPDATE SKIP LOCKED; `attempts` is the fencing token). `slot` makes scheduling idempotent:
 *   `build:<snapshot>` once per build, `interval:<n>` once per interval of the database's clock,
 *   whichever instance asks first. `queued` → `running` → `ok` | `shortfall` | `failed`.
 */
export const RECONCILIATION_MIGRATION: Migration = {
  version: 5,
  name: 'asset sources, reconciliation runs',
  sql: `
CREATE TABLE reserves_asset_sources (
  id          text PRIMARY KEY,
  kind        text NOT NULL,             -- onchain | offchain
  currency    text NOT NULL,
  label       text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  decimals    integer NOT NULL,
  chain_id    bigint,                    -- onchain
  key_id      text,
  rpc_url_enc bytea,
  rpc_origin  text,
  address     text,
  token       text,                      -- ERC-20 contract; NULL: the native balance
  amount      text,                      -- offchain
  attested_by text,
  as_of       timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE reserves_reconciliations (
  id          text PRIMARY KEY,
  seq         bigserial UNIQUE,
  snapshot_id text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  trigger     text NOT NULL,             -- build | interval | manual
  slot        text NOT NULL UNIQUE,
  state       text NOT NULL,             -- queued | running | ok | shortfall | failed
  attempts    integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until timestamptz,
  result      jsonb,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz
);
CREATE INDEX reserves_reconciliations_claimable ON reserves_reconciliations (state, created_at);
CREATE INDEX reserves_reconciliations_by_snapshot ON reserves_reconciliations (snapshot_id, seq);`,
}
