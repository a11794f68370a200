import { type HealthChecks, MetricsServer, type Shutdown } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { RpcModule } from './rpc.ts'

/** The separate metrics listener (`metrics.port`): its URL, or null when there is none. */
export async function openMetricsListener(
  config: NodeConfig,
  modules: { logger: Logger; shutdown: Shutdown; registry: Registry; health: HealthChecks; rpc: RpcModule },
): Promise<string | null> {
  if (config.metrics.port === undefined) return null
  const { logger, health } = modules
  // With listening read threads, one page gathers every thread's metrics.
  const listening = modules.rpc.listening
  const metricsServer = new MetricsServer(
    { host: config.metrics.host, port: config.metrics.port },
    { registry: listening ? listening.metricsPage : modules.registry, health, logger },
  )
  const metricsUrl = await metricsServer.listen()
  modules.shutdown.add('metrics', () => metricsServer.close())
  logger.info({ metrics: `${metricsUrl}/metrics` }, 'metrics listener')
  return metricsUrl
}
