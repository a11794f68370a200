// The arbitrage service's schema, versioned (service-kit's runner; applied versions in
// arb_migrations). Never edit a published migration: add the next one.
import { type Migration, migrate, type Sql } from '@cairn/service-kit/sql'

/** Advisory lock id serialising migrators of this schema (several instances starting at once). */
const MIGRATION_LOCK = 719_001

export const ARB_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'pools, reserve history, opportunities, trades, claims, signers, configuration, audit',
    sql: `
CREATE TABLE arb_pools (
  address       text PRIMARY KEY,
  token0        text NOT NULL,
  token1        text NOT NULL,
  fee_num       bigint NOT NULL,
  fee_den       bigint NOT NULL,
  reserve0      numeric(78,0) NOT NULL,
  reserve1      numeric(78,0) NOT NULL,
  updated_block bigint NOT NULL,
  updated_at    timestamptz NOT NULL
);
-- time series: range-partitioned by day on at (partitions made ahead, dropped for retention);
-- the default partition catches rows outside the made ones so an insert never fails
CREATE TABLE arb_reserves (
  at        timestamptz NOT NULL,
  block     bigint NOT NULL,
  pool      text NOT NULL,
  reserve0  numeric(78,0) NOT NULL,
  reserve1  numeric(78,0) NOT NULL
) PARTITION BY RANGE (at);
CREATE TABLE arb_reserves_default PARTITION OF arb_reserves DEFAULT;
CREATE INDEX arb_reserves_pool_at ON arb_reserves (pool, at);
CREATE TABLE arb_opportunities (
  id            text NOT NULL,
  at            timestamptz NOT NULL,
  block         bigint NOT NULL,
  cycle_key     text NOT NULL,
  base_token    text NOT NULL,
  tokens        jsonb NOT NULL,
  pools         jsonb NOT NULL,
  amount_in     numeric(78,0) NOT NULL,
  gross_profit  numeric(78,0) NOT NULL,
  gas_cost      numeric(78,0) NOT NULL,
  net_profit    numeric(78,0) NOT NULL,
  decision      text NOT NULL,
  detail        text,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE arb_opportunities_default PARTITION OF arb_opportunities DEFAULT;
CREATE INDEX arb_opportunities_at ON arb_opportunities (at);
CREATE TABLE arb_trades (
  tx_hash         text PRIMARY KEY,
  opportunity_id  text NOT NULL,
  at              timestamptz NOT NULL,
  block           bigint NOT NULL,
  status          text NOT NULL,
  token           text NOT NULL,
  amount_in       numeric(78,0) NOT NULL,
  profit          numeric(78,0) NOT NULL,
  gas_used        numeric(78,0) NOT NULL,
  gas_price       numeric(78,0) NOT NULL,
  gas_cost_base   numeric(78,0) NOT NULL,
  realized        numeric(78,0) NOT NULL,
  executor        text NOT NULL
);
CREATE INDEX arb_trades_at ON arb_trades (at);
CREATE INDEX arb_trades_token_at ON arb_trades (token, at);
-- one row per opportunity an executor took: the idempotency key of the work queue
CREATE TABLE arb_claims (
  opportunity_id  text PRIMARY KEY,
  owner           text NOT NULL,
  claimed_at      timestamptz NOT NULL
);
-- one nonce owner per signing account: the executor process holding the row (heartbeat) signs for it
CREATE TABLE arb_signers (
  account    text PRIMARY KEY,
  owner      text NOT NULL,
  heartbeat  timestamptz NOT NULL
);
CREATE TABLE arb_config (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  version     integer NOT NULL,
  updated_at  timestamptz NOT NULL,
  updated_by  text NOT NULL
);
CREATE TABLE arb_config_history (
  key         text NOT NULL,
  version     integer NOT NULL,
  value       jsonb NOT NULL,
  at          timestamptz NOT NULL,
  actor       text NOT NULL,
  PRIMARY KEY (key, version)
);
CREATE TABLE arb_audit (
  seq      bigserial PRIMARY KEY,
  at       timestamptz NOT NULL,
  actor    text NOT NULL,
  role     text NOT NULL,
  action   text NOT NULL,
  details  jsonb NOT NULL
);
-- append-only: the database itself refuses to change or delete an audit entry
CREATE FUNCTION arb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'arb_audit is append-only';
END $$;
CREATE TRIGGER arb_audit_no_change BEFORE UPDATE OR DELETE ON arb_audit
  FOR EACH ROW EXECUTE FUNCTION arb_audit_append_only();
CREATE TRIGGER arb_audit_no_truncate BEFORE TRUNCATE ON arb_audit
  FOR EACH STATEMENT EXECUTE FUNCTION arb_audit_append_only();`,
  },
]

/** Brings the arbitrage schema to the latest version; returns the versions it applied. */
export function migrateArb(sql: Sql): Promise<number[]> {
  return migrate(sql, ARB_MIGRATIONS, { table: 'arb_migrations', lockId: MIGRATION_LOCK })
}
