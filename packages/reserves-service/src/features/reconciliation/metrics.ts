import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { RPC_METHODS } from './rpc.ts'

/** The reconciliation metrics (on the service's registry, beside createReservesMetrics'). */
export interface ReconciliationMetrics {
  /** assets / liabilities per currency at the last completed run (absent for a currency without liabilities). */
  ratio: Gauge<'currency'>
  /** Runs by outcome: ok, shortfall, failed. */
  runs: Counter<'outcome'>
  /** Failed JSON-RPC reads by method. */
  rpcErrors: Counter<'method'>
  /** One run, claim to outcome. */
  runSeconds: Histogram
}

export const RUN_OUTCOMES = ['ok', 'shortfall', 'failed'] as const

/** The registry's own when it has them already (a worker restarted on the same registry). */
export function createReconciliationMetrics(registry: Registry): ReconciliationMetrics {
  const registers = [registry]
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined
  const runs =
    existing<Counter<'outcome'>>('cairn_reserves_reconciliations_total') ??
    new Counter({
      name: 'cairn_reserves_reconciliations_total',
      help: 'Reconciliation runs by outcome (ok, shortfall: assets below liabilities in some currency, failed: a read failed)',
      labelNames: ['outcome'],
      registers,
    })
  for (const outcome of RUN_OUTCOMES) runs.inc({ outcome }, 0)
  const rpcErrors =
    existing<Counter<'method'>>('cairn_reserves_reconciliation_rpc_errors_total') ??
    new Counter({
      name: 'cairn_reserves_reconciliation_rpc_errors_total',
      help: 'Failed JSON-RPC reads of declared asset sources, by method',
      labelNames: ['method'],
      registers,
    })
  for (const method of RPC_METHODS) rpcErrors.inc({ method }, 0)
  return {
    ratio:
      existing<Gauge<'currency'>>('cairn_reserves_reserve_ratio') ??
      new Gauge({
        name: 'cairn_reserves_reserve_ratio',
        help: 'Assets over liabilities per currency at the last completed reconciliation (below 1: shortfall)',
        labelNames: ['currency'],
        registers,
      }),
    runs,
    rpcErrors,
    runSeconds:
      existing<Histogram>('cairn_reserves_reconciliation_seconds') ??
      new Histogram({
        name: 'cairn_reserves_reconciliation_seconds',
        help: 'One reconciliation run, claimed to finished',
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
        registers,
      }),
  }
}
