import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'

export interface MetricsOptions {
  /** Prefix of process metrics (default `cairn_`). */
  prefix?: string
  version: string
  commit: string
}

/**
 * A Prometheus registry with process metrics (CPU, memory, event-loop lag, GC, fds) and
 * `cairn_build_info{version,commit}`. Components register their own metrics on it.
 */
export function createMetricsRegistry(opts: MetricsOptions): Registry {
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: opts.prefix ?? 'cairn_' })
  const info = new Gauge({
    name: 'cairn_build_info',
    help: 'Build information; always 1',
    labelNames: ['version', 'commit'],
    registers: [register],
  })
  info.set({ version: opts.version, commit: opts.commit }, 1)
  return register
}
