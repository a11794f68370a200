import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface TxPoolMetrics {
  pending: Gauge
  queued: Gauge
  admitted: Counter
  rejected: Counter<'reason'>
  replaced: Counter
  /** Transactions the pool dropped by itself: full, expired, unpayable, account_queue. */
  evicted: Counter<'reason'>
  /** Blob transactions pooled, and the bytes of blobs their sidecars hold. */
  blobTxs?: Gauge
  blobBytes?: Gauge
  /** Time to check a blob sidecar's KZG proofs. */
  blobVerifySeconds?: Histogram
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
    blobTxs: new Gauge({ name: 'cairn_txpool_blob_txs', help: 'Blob transactions in the pool', registers }),
    blobBytes: new Gauge({
      name: 'cairn_txpool_blob_bytes',
      help: 'Bytes of blobs held beside the pool (128 KiB per blob)',
      registers,
    }),
    blobVerifySeconds: new Histogram({
      name: 'cairn_txpool_blob_verify_seconds',
      help: "Time to verify a blob transaction's KZG proofs",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  }
}
