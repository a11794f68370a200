import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The webhook delivery metrics (on the service's registry, beside createReservesMetrics'). */
export interface WebhookMetrics {
  /** Attempts by outcome: delivered, retried (failed, will retry), dead (failed, attempts exhausted), lost (lease taken over). */
  deliveries: Counter<'outcome'>
  /** Deliveries pending (due or waiting for a retry), as of the worker's last look. */
  backlog: Gauge
  /** One HTTP attempt, request to answer (or timeout), by outcome. */
  requestSeconds: Histogram<'outcome'>
  /** From the event (its outbox row) to its successful delivery, retries included. */
  latencySeconds: Histogram
}

export const DELIVERY_OUTCOMES = ['delivered', 'retried', 'dead', 'lost'] as const

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry]
  const deliveries = new Counter({
    name: 'cairn_reserves_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retried, dead, lost: lease taken over)',
    labelNames: ['outcome'],
    registers,
  })
  for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ outcome }, 0)
  return {
    deliveries,
    backlog: new Gauge({
      name: 'cairn_reserves_webhook_backlog',
      help: 'Webhook deliveries pending (due now or waiting for a retry)',
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'cairn_reserves_webhook_request_seconds',
      help: 'One webhook HTTP attempt, request to answer or timeout, by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    latencySeconds: new Histogram({
      name: 'cairn_reserves_webhook_delivery_latency_seconds',
      help: 'From an event to its successful delivery (retries included)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600],
      registers,
    }),
  }
}

/**
 * Outbox events relayed to NATS JetStream (`--events.nats-url`), by outcome, at 0 from the start;
 * the registry's own when it has one already (a relay restarted on the same registry).
 */
export function createNatsEventMetrics(registry: Registry): Counter<'outcome'> {
  const published =
    (registry.getSingleMetric('cairn_reserves_nats_events_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'cairn_reserves_nats_events_total',
      help: 'Outbox events relayed to NATS JetStream, by outcome (published, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    })
  for (const outcome of ['published', 'failed']) published.inc({ outcome }, 0)
  return published
}
