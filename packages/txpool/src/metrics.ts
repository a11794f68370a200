import { Counter, Gauge, type Registry } from 'prom-client'

export interface TxPoolMetrics {
  pending: Gauge
  queued: Gauge
  admitted: Counter
  rejected: Counter<'reason'>
  replaced: Counter
  /** Transactions the pool dropped by itself: full, expired, unpayable, account_queue. */
  evicted: Counter<'reason'>
}

export function createTxPoolMetrics(register: Registry): TxPoolMetrics {
  const registers = [register]
  return {
    pending: new Gauge({ name: 'cairn_txpool_pending', help: 'Executable transactions in the pool', registers }),
    queued: new Gauge({ name: 'cairn_txpool_queued', help: 'Nonce-gapped transactions in the pool', registers }),
    admitted: new Counter({ name: 'cairn_txpool_admitted_total', help: 'Transactions admitted', registers }),
    rejected: new Counter({
      name: 'cairn_txpool_rejected_total',
      help: 'Transactions refused, by reason code',
      labelNames: ['reason'],
      registers,
    }),
    replaced: new Counter({
      name: 'cairn_txpool_replaced_total',
      help: 'Transactions replaced by a higher bid',
      registers,
    }),
    evicted: new Counter({
      name: 'cairn_txpool_evicted_total',
      help: 'Transactions dropped by the pool (full, expired, unpayable, account_queue)',
      labelNames: ['reason'],
      registers,
    }),
  }
}
