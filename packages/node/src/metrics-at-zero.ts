import { TxPoolErrorCode } from '@cairn/txpool'
import type { Counter, Registry } from 'prom-client'

/**
 * The labelled counters whose label values are a closed set, with those values: exported at 0 from
 * the start (a family without a sample is absent to PromQL, so `rate(x[5m]) == 0` or
 * `increase(x{status="invalid"}[5m]) > 0` would never fire on a node that has not imported yet).
 * Counters labelled by an open set (an RPC method, an outside service's name, a bad block's error
 * code) get their series as values occur.
 */
export const COUNTERS_AT_ZERO: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  cairn_blocks_imported_total: { status: ['head', 'side', 'known', 'invalid'] },
  cairn_txpool_rejected_total: { reason: Object.values(TxPoolErrorCode) },
  cairn_txpool_evicted_total: { reason: ['full', 'expired', 'unpayable', 'account_queue'] },
  cairn_rpc_refused_total: {
    reason: [
      'unauthorized',
      'forbidden',
      'rate_limited',
      'limit_store_down',
      'overloaded',
      'invalid_host',
      'origin_forbidden',
    ],
  },
  cairn_rpc_call_cache_requests_total: { result: ['hit', 'joined', 'miss', 'bypass'] },
  cairn_rpc_view_calls_total: { path: ['interpreter', 'evm'] },
}

/** Gives every series of {@link COUNTERS_AT_ZERO} that `registry` holds a sample (0 unless counted). */
export function exportCountersAtZero(registry: Registry): void {
  for (const [name, labels] of Object.entries(COUNTERS_AT_ZERO)) {
    const counter = registry.getSingleMetric(name) as Counter<string> | undefined
    if (!counter) continue
    const [label, values] = Object.entries(labels)[0] as [string, readonly string[]]
    for (const value of values) counter.inc({ [label]: value }, 0)
  }
}
