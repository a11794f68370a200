import { createMetricsRegistry, createTracing, type Shutdown, type Tracing } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import { CorruptionWatch } from '../db-corruption.ts'
import { buildCommit, VERSION } from '../version.ts'

/** What every later module reports to: traces, metrics, and the watch over database damage. */
export interface TelemetryModule {
  tracing: Tracing
  registry: Registry
  /** A read that finds the database damaged is logged, counted and turns /ready red (DB_CORRUPT). */
  corruption: CorruptionWatch
}

/** Opens tracing (closed last: spans of the shutdown itself are still exported), metrics and the corruption watch. */
export async function openTelemetry(
  config: NodeConfig,
  modules: { logger: Logger; shutdown: Shutdown; datadir: DatadirLayout | null; tracing: Tracing | undefined },
): Promise<TelemetryModule> {
  const { logger, shutdown, datadir } = modules
  const tracing =
    modules.tracing ??
    (await createTracing({ ...config.tracing, serviceName: 'cairn-node', version: VERSION }, { logger }))
  shutdown.add('tracing', () => tracing.shutdown())
  const registry = createMetricsRegistry({ version: VERSION, commit: buildCommit(), datadir: datadir?.root })
  const corruption = new CorruptionWatch({}, { logger: logger.child({ module: 'db' }), registry })
  return { tracing, registry, corruption }
}
