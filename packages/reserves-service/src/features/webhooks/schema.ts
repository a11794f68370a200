import type { Migration } from '@cairn/service-kit/sql'

/**
 * Migration 4 (listed in src/schema.ts): webhook endpoints, the transactional outbox and
 * one delivery row per (event, endpoint).
 *
 * - `reserves_webhooks`: the endpoint's secret is sealed with the at-rest key (AAD `webhook:<id>`);
 *   after a rotation the previous secret keeps signing beside the new one until `prev_until`.
 * - `reserves_outbox`: one row per event, written in the transaction of the change that caused it;
 *   `body` is the exact JSON delivered (the same bytes on every retry); `relayed_at` once the NATS
 *   relay has published it.
 * - `reserves_webhook_deliveries`: written in that same transaction for every enabled endpoint
 *   subscribed to the event type; a worker claims due rows with a lease (FOR UPDATE SKIP LOCKED),
 *   `attempts` is the fencing token; `pending` → `delivered`, or `dead` after the last attempt.
 */
export const WEBHOOKS_MIGRATION: Migration = {
  version: 4,
  name: 'webhook endpoints, event outbox, deliveries',
  sql: `
CREATE TABLE reserves_webhooks (
  id          text PRIMARY KEY,
  url         text NOT NULL,
  events      jsonb NOT NULL,            -- ["snapshot.built", …] or ["*"]
  description text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  key_id      text NOT NULL,
  secret_enc  bytea NOT NULL,
  prev_secret_enc bytea,
  prev_until  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE reserves_outbox (
  seq        bigserial PRIMARY KEY,
  id         text NOT NULL UNIQUE,
  type       text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  relayed_at timestamptz                 -- published to NATS JetStream (nats-relay.ts); NULL: not yet
);
CREATE INDEX reserves_outbox_unrelayed ON reserves_outbox (seq) WHERE relayed_at IS NULL;
CREATE TABLE reserves_webhook_deliveries (
  event_id     text NOT NULL REFERENCES reserves_outbox(id) ON DELETE CASCADE,
  webhook_id   text NOT NULL REFERENCES reserves_webhooks(id) ON DELETE CASCADE,
  state        text NOT NULL,            -- pending | delivered | dead
  attempts     integer NOT NULL DEFAULT 0,
  next_at      timestamptz NOT NULL DEFAULT now(),
  lease_owner  text,
  lease_until  timestamptz,
  last_status  integer,
  last_error   text,
  delivered_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX reserves_webhook_deliveries_due ON reserves_webhook_deliveries (state, next_at);
CREATE INDEX reserves_webhook_deliveries_by_hook ON reserves_webhook_deliveries (webhook_id, state, created_at);`,
}
