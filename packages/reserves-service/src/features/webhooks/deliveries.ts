// The delivery queue over `reserves_webhook_deliveries`, shaped like the build jobs (jobs.ts): a
// worker claims due rows with a lease (FOR UPDATE SKIP LOCKED — two instances never hold the same
// delivery), `attempts` counts claims and fences the result (a worker whose lease ran out and was
// taken over cannot record its late answer), and a lease left by a dead worker runs out, after
// which the row is claimed again: at-least-once, the receiver deduplicating on the event id.
// Times are the database's (`now()`), so instances' clocks do not matter.

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Row, Sql } from '../../kernel/sql.ts'

export type DeliveryState = 'pending' | 'delivered' | 'dead'

/** A delivery as the API lists it. */
export interface DeliveryInfo {
  eventId: string
  eventType: string
  webhookId: string
  state: DeliveryState
  attempts: number
  nextAt: string | null
  lastStatus: number | null
  lastError: string | null
  deliveredAt: string | null
  createdAt: string
  updatedAt: string
}

/** A delivery a worker holds: everything needed to send it. */
export interface ClaimedDelivery {
  eventId: string
  eventType: string
  webhookId: string
  /** This claim's number: the fencing token. */
  attempt: number
  url: string
  body: string
  secretEnc: Uint8Array
  prevSecretEnc: Uint8Array | null
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())
const MS = "* interval '1 millisecond'"

function infoOf(r: Row): DeliveryInfo {
  const state = r.state as DeliveryState
  return {
    eventId: r.event_id as string,
    eventType: r.type as string,
    webhookId: r.webhook_id as string,
    state,
    attempts: Number(r.attempts),
    nextAt: state === 'pending' ? iso(r.next_at) : null,
    lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
  }
}

export class Deliveries {
  constructor(private readonly sql: Sql) {}

  /**
   * Claims up to `limit` due deliveries of enabled endpoints (pending, `next_at` passed, no live
   * lease), oldest first, each leased to `owner` for `leaseMs`.
   */
  async claim(owner: string, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const rows = await this.sql.query(
      `WITH due AS (
         SELECT d.event_id, d.webhook_id FROM reserves_webhook_deliveries d
           JOIN reserves_webhooks w ON w.id = d.webhook_id
          WHERE d.state = 'pending' AND d.next_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now()) AND w.enabled
          ORDER BY d.next_at, d.created_at LIMIT $3
            FOR UPDATE OF d SKIP LOCKED),
       claimed AS (
         UPDATE reserves_webhook_deliveries d SET attempts = d.attempts + 1, lease_owner = $1,
                lease_until = now() + $2 ${MS}, updated_at = now()
           FROM due WHERE d.event_id = due.event_id AND d.webhook_id = due.webhook_id
         RETURNING d.event_id, d.webhook_id, d.attempts)
       SELECT c.event_id, c.webhook_id, c.attempts, e.type, e.body, w.url, w.secret_enc,
              CASE WHEN w.prev_until > now() THEN w.prev_secret_enc END AS prev_secret_enc
         FROM claimed c JOIN reserves_outbox e ON e.id = c.event_id JOIN reserves_webhooks w ON w.id = c.webhook_id`,
      [owner, leaseMs, limit],
    )
    return rows.map((r) => ({
      eventId: r.event_id as string,
      eventType: r.type as string,
      webhookId: r.webhook_id as string,
      attempt: Number(r.attempts),
      url: r.url as string,
      body: r.body as string,
      secretEnc: r.secret_enc as Uint8Array,
      prevSecretEnc: (r.prev_secret_enc as Uint8Array | null) ?? null,
    }))
  }

  /**
   * Records a 2xx answer; false when this claim no longer holds the row (it was taken over). Returns
   * the seconds from the event to now (delivery latency) when recorded.
   */
  async delivered(d: ClaimedDelivery, owner: string, status: number): Promise<number | null> {
    const r = await this.sql.query(
      `UPDATE reserves_webhook_deliveries d SET state = 'delivered', delivered_at = now(), last_status = $4,
              last_error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
         FROM reserves_outbox e
        WHERE d.event_id = $1 AND d.webhook_id = $2 AND d.attempts = $3 AND d.lease_owner = $5 AND d.state = 'pending'
          AND e.id = d.event_id
        RETURNING EXTRACT(EPOCH FROM (now() - e.created_at))::float8 AS lag`,
      [d.eventId, d.webhookId, d.attempt, status, owner],
    )
    return r[0] ? Number(r[0].lag) : null
  }

  /**
   * Records a failed attempt: retried after `retryMs`, or `dead` when `retryMs` is null (attempts
   * exhausted). Returns the new state, or null when this claim no longer holds the row.
   */
  async failed(
    d: ClaimedDelivery,
    owner: string,
    outcome: { status: number | null; error: string },
    retryMs: number | null,
  ): Promise<DeliveryState | null> {
    const r = await this.sql.query(
      `UPDATE reserves_webhook_deliveries SET state = $4, next_at = now() + $5 ${MS}, last_status = $6, last_error = $7,
              lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE event_id = $1 AND webhook_id = $2 AND attempts = $3 AND lease_owner = $8 AND state = 'pending'
        RETURNING state`,
      [
        d.eventId,
        d.webhookId,
        d.attempt,
        retryMs === null ? 'dead' : 'pending',
        retryMs ?? 0,
        outcome.status,
        outcome.error.slice(0, 1000),
        owner,
      ],
    )
    return r[0] ? (r[0].state as DeliveryState) : null
  }

  /** Hands a claimed delivery back untried (the worker is stopping): due at once, the claim not counted. */
  async release(d: ClaimedDelivery, owner: string): Promise<void> {
    await this.sql.query(
      `UPDATE reserves_webhook_deliveries SET attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE event_id = $1 AND webhook_id = $2 AND attempts = $3 AND lease_owner = $4 AND state = 'pending'`,
      [d.eventId, d.webhookId, d.attempt, owner],
    )
  }

  /**
   * Lets every leased delivery be claimed at once: for PGlite, whose datadir one process opens, a
   * lease still held at start-up belongs to a process that died (maybe mid-request).
   */
  async releaseAll(): Promise<number> {
    const r = await this.sql.query(
      `UPDATE reserves_webhook_deliveries SET lease_until = now() - interval '1 second', updated_at = now()
        WHERE state = 'pending' AND lease_until IS NOT NULL RETURNING 1 AS x`,
    )
    return r.length
  }

  /** Pending deliveries (the backlog gauge; tests wait for 0). */
  async backlog(): Promise<number> {
    const r = await this.sql.query(`SELECT count(*)::int AS n FROM reserves_webhook_deliveries WHERE state = 'pending'`)
    return Number(r[0]?.n ?? 0)
  }

  /** Deliveries newest first, of one endpoint or all, in one state or any. */
  async list(q: { webhookId?: string; state?: DeliveryState; limit: number }): Promise<DeliveryInfo[]> {
    const r = await this.sql.query(
      `SELECT d.*, e.type FROM reserves_webhook_deliveries d JOIN reserves_outbox e ON e.id = d.event_id
        WHERE ($1::text IS NULL OR d.webhook_id = $1) AND ($2::text IS NULL OR d.state = $2)
        ORDER BY e.seq DESC LIMIT $3`,
      [q.webhookId ?? null, q.state ?? null, q.limit],
    )
    return r.map(infoOf)
  }

  /**
   * Queues a dead (or delivered) delivery again with fresh attempts, due now; throws when there is
   * none or it is still pending.
   */
  async redeliver(webhookId: string, eventId: string, tx?: Sql): Promise<DeliveryInfo> {
    const db = tx ?? this.sql
    const r = await db.query(
      `UPDATE reserves_webhook_deliveries SET state = 'pending', attempts = 0, next_at = now(), lease_owner = NULL,
              lease_until = NULL, delivered_at = NULL, updated_at = now()
        WHERE webhook_id = $1 AND event_id = $2 AND state IN ('dead', 'delivered') RETURNING event_id`,
      [webhookId, eventId],
    )
    if (r.length === 0) {
      const have = await db.query(
        'SELECT state FROM reserves_webhook_deliveries WHERE webhook_id = $1 AND event_id = $2',
        [webhookId, eventId],
      )
      throw new CairnError(
        ReservesErrorCode.WEBHOOK_DELIVERY_STATE,
        have[0]
          ? `the delivery of ${eventId} to ${webhookId} is still pending`
          : `no delivery of event ${eventId} to webhook ${webhookId}`,
        {
          fault: 'caller',
          hint: have[0]
            ? 'it is retried by itself; redeliver dead or delivered ones'
            : 'GET /v1/webhooks/:id/deliveries lists them',
        },
      )
    }
    return (await this.get(webhookId, eventId, db))!
  }

  /** Queues every dead delivery of an endpoint again; returns how many. */
  async redeliverDead(webhookId: string, tx?: Sql): Promise<number> {
    const r = await (tx ?? this.sql).query(
      `UPDATE reserves_webhook_deliveries SET state = 'pending', attempts = 0, next_at = now(), lease_owner = NULL,
              lease_until = NULL, updated_at = now()
        WHERE webhook_id = $1 AND state = 'dead' RETURNING 1 AS x`,
      [webhookId],
    )
    return r.length
  }

  async get(webhookId: string, eventId: string, tx?: Sql): Promise<DeliveryInfo | null> {
    const r = await (tx ?? this.sql).query(
      `SELECT d.*, e.type FROM reserves_webhook_deliveries d JOIN reserves_outbox e ON e.id = d.event_id
        WHERE d.webhook_id = $1 AND d.event_id = $2`,
      [webhookId, eventId],
    )
    return r[0] ? infoOf(r[0]) : null
  }
}
