import { Counter, Histogram, type Registry } from 'prom-client'

/** The reserves service's own metrics (process metrics and build info come with service-kit's registry). */
export interface ReservesMetrics {
  requests: Counter<'method' | 'route' | 'status'>
  requestSeconds: Histogram<'method' | 'route'>
  proofServeSeconds: Histogram<'route'>
  buildSeconds: Histogram<'outcome'>
  proofCache: Counter<'tier' | 'result'>
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
  }
}
