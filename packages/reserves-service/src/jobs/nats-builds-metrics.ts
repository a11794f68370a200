// The NATS build queue's counter (nats-builds.ts), apart so that the package's index exports it
// without loading the NATS client.
import { Counter, type Registry } from 'prom-client'

/** Message outcomes, counted from 0 (`cairn_reserves_build_queue_messages_total`). */
export const NATS_BUILD_OUTCOMES = [
  'published',
  'duplicate',
  'publish_failed',
  'received',
  'redelivered',
  'built',
  'failed',
  'retried',
  'deferred',
  'dropped',
  'released',
  'abandoned',
  'error',
] as const
export type NatsBuildOutcome = (typeof NATS_BUILD_OUTCOMES)[number]

/** Build-queue message counts by outcome, at 0 from the start (the registry's own when it has them). */
export function createNatsBuildMetrics(registry: Registry): Counter<'outcome'> {
  const name = 'cairn_reserves_build_queue_messages_total'
  const existing = registry.getSingleMetric(name) as Counter<'outcome'> | undefined
  if (existing) return existing
  const c = new Counter({
    name,
    help: 'NATS build-queue messages by outcome: published, duplicate (dropped by the stream), publish_failed, received, redelivered (then: built, failed, retried, deferred, dropped, released, abandoned, error)',
    labelNames: ['outcome'],
    registers: [registry],
  })
  for (const outcome of NATS_BUILD_OUTCOMES) c.inc({ outcome }, 0)
  return c
}
