// The transactional outbox: an event is written in the transaction of the change that causes it
// (the snapshot row marked built, the anchor recorded…), together with one pending delivery per
// enabled endpoint subscribed to its type. Either the change, the event and its deliveries are all
// committed or none is, so a crash at any moment neither loses an event nor announces a change that
// did not happen. Delivery (worker.ts) reads the rows afterwards, from any instance.
import { randomBytes } from 'node:crypto'
import { ALL_EVENTS, type WebhookEventBody, type WebhookEventType } from '@cairn/reserves/webhooks'
import type { Sql } from './sql.ts'

export interface RecordOptions {
  /** The event id (default `evt_` + 16 random bytes, hex). */
  id?: string
  /** When it happened (default now). */
  at?: Date
}

/**
 * Writes event `type` with `data` and its deliveries in `tx` (call it inside the transaction of the
 * change). Returns the event as receivers will get it and how many endpoints will.
 */
export async function recordEvent(
  tx: Sql,
  type: WebhookEventType,
  data: Record<string, unknown>,
  opts: RecordOptions = {},
): Promise<{ event: WebhookEventBody; deliveries: number }> {
  const event: WebhookEventBody = {
    id: opts.id ?? `evt_${randomBytes(16).toString('hex')}`,
    type,
    createdAt: (opts.at ?? new Date()).toISOString(),
    data,
  }
  await tx.query('INSERT INTO reserves_outbox (id, type, body) VALUES ($1, $2, $3)', [
    event.id,
    type,
    JSON.stringify(event),
  ])
  const r = await tx.query(
    `INSERT INTO reserves_webhook_deliveries (event_id, webhook_id, state)
     SELECT $1, w.id, 'pending' FROM reserves_webhooks w
      WHERE w.enabled AND (w.events @> to_jsonb($2::text) OR w.events @> to_jsonb($3::text))
     RETURNING 1 AS x`,
    [event.id, type, ALL_EVENTS],
  )
  return { event, deliveries: r.length }
}
