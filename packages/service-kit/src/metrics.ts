import type { StatsFs } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { outboundMetrics } from './resilience.ts'

export interface MetricsOptions {
  version: string
  commit: string
  /** The service's data directory: its filesystem's free and total bytes are exported. */
  datadir?: string
}

/**
 * A Prometheus registry with process metrics (CPU, memory, event-loop lag, GC, open fds: prom-client's
 * default collector under its standard names, `process_cpu_user_seconds_total`,
 * `nodejs_eventloop_lag_seconds`…, which the common Node.js Grafana dashboards query), `cairn_build_info{version,commit}` and, given a datadir,
 * `cairn_datadir_free_bytes` / `cairn_datadir_size_bytes`, and the `cairn_outbound_*` families of
{@link outboundMetrics}. Components register their own metrics on it.
 */
export function createMetricsRegistry(opts: MetricsOptions): Registry {
  const register = new Registry()
  collectDefaultMetrics({ register })
  const info = new Gauge({
    name: 'cairn_build_info',
    help: 'Build information; always 1',
    labelNames: ['version', 'commit'],
    registers: [register],
  })
  info.set({ version: opts.version, commit: opts.commit }, 1)
  if (opts.datadir !== undefined) registerDiskMetrics(register, opts.datadir)
  // Declared up front (no series until a call is made) so dashboards and alerts find them.
  outboundMetrics(register)
  return register
}

/** Free (for this user) and total bytes of the filesystem holding `dir`, read at each scrape. */
function registerDiskMetrics(register: Registry, dir: string): void {
  // One statfs per scrape: both gauges collect at once and share the read in flight.
  let pending: Promise<StatsFs | undefined> | undefined
  const read = () => {
    pending ??= statfs(dir)
      .catch(() => undefined) // a vanished datadir leaves the last value
      .finally(() => {
        pending = undefined
      })
    return pending
  }
  new Gauge({
    name: 'cairn_datadir_free_bytes',
    help: 'Bytes free for the node on the filesystem of its data directory',
    registers: [register],
    async collect() {
      const s = await read()
      if (s) this.set(s.bavail * s.bsize)
    },
  })
  new Gauge({
    name: 'cairn_datadir_size_bytes',
    help: 'Size in bytes of the filesystem of the data directory',
    registers: [register],
    async collect() {
      const s = await read()
      if (s) this.set(s.blocks * s.bsize)
    },
  })
}
