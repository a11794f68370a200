import { Counter, Histogram, type Registry } from 'prom-client'

/** The reserves service's own metrics (process metrics and build info come with service-kit's registry). */
export interface ReservesMetrics {
  requests: Counter<'method' | 'route' | 'status'>
  requestSeconds: Histogram<'method' | 'route'>
  proofServeSeconds: Histogram<'route'>
  buildSeconds: Histogram<'outcome'>
  proofCache: Counter<'tier' | 'result'>
  /** Build attempts by outcome: built, retried, failed, abandoned (lease lost or stopping). */
  buildAttempts: Counter<'outcome'>
  /** Requests refused by the rate limit, by who was charged: role (admin, auditor, user) or ip. */
  rateLimited: Counter<'caller'>
}

/** Registers the reserves metrics on `registry` (service-kit's `createMetricsRegistry`). */
export function createReservesMetrics(registry: Registry): ReservesMetrics {
  const registers = [registry]
  return {
    requests: new Counter({
      name: 'cairn_reserves_http_requests_total',
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'cairn_reserves_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    proofServeSeconds: new Histogram({
      name: 'cairn_reserves_proof_serve_seconds',
      help: 'Time to produce a proof (cache or database) for the proof routes',
      labelNames: ['route'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    buildSeconds: new Histogram({
      name: 'cairn_reserves_snapshot_build_seconds',
      help: 'Snapshot tree build and store duration, by outcome (built, failed)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    proofCache: new Counter({
      name: 'cairn_reserves_proof_cache_total',
      help: 'Proof cache lookups by tier (memory, redis) and result (hit, miss, error)',
      labelNames: ['tier', 'result'],
      registers,
    }),
    buildAttempts: zeroed(
      new Counter({
        name: 'cairn_reserves_build_attempts_total',
        help: 'Snapshot build attempts by outcome (built, retried, failed, abandoned)',
        labelNames: ['outcome'],
        registers,
      }),
      'outcome',
      ['built', 'retried', 'failed', 'abandoned'],
    ),
    rateLimited: zeroed(
      new Counter({
        name: 'cairn_reserves_rate_limited_total',
        help: 'Requests refused by the rate limit (429), by who was charged: a role or ip',
        labelNames: ['caller'],
        registers,
      }),
      'caller',
      ['admin', 'auditor', 'user', 'ip'],
    ),
  }
}

/** A labelled counter exported at 0 for each known label value. */
function zeroed<L extends string>(c: Counter<L>, label: L, values: string[]): Counter<L> {
  for (const v of values) c.inc({ [label]: v } as Partial<Record<L, string>>, 0)
  return c
}
