import { Counter, Gauge, type Registry } from 'prom-client'

export interface ReadThreadMetrics {
  requests: Counter<'thread'>
  failed: Counter<'thread'>
  restarts: Counter<'thread'>
  inFlight: Gauge<'thread'>
  up: Gauge<'thread'>
}

/** The read threads' metrics on `registry` (null: none). */
export function createReadThreadMetrics(registry: Registry | null): ReadThreadMetrics | null {
  if (!registry) return null
  const registers = [registry]
  return {
    requests: new Counter({
      name: 'cairn_rpc_thread_requests_total',
      help: 'HTTP JSON-RPC bodies (a request or a batch) answered by each read thread (--rpc.threads)',
      labelNames: ['thread'],
      registers,
    }),
    failed: new Counter({
      name: 'cairn_rpc_thread_failed_total',
      help: 'Bodies answered with RPC_READ_THREAD_STOPPED (-32603) because their read thread stopped with them in flight',
      labelNames: ['thread'],
      registers,
    }),
    restarts: new Counter({
      name: 'cairn_rpc_thread_restarts_total',
      help: 'Read threads restarted after stopping unasked',
      labelNames: ['thread'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'cairn_rpc_thread_in_flight',
      help: 'Bodies sent to each read thread and not yet answered',
      labelNames: ['thread'],
      registers,
    }),
    up: new Gauge({
      name: 'cairn_rpc_thread_up',
      help: '1 while the read thread is started and taking requests, 0 while it starts or restarts',
      labelNames: ['thread'],
      registers,
    }),
  }
}
