import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The pool's sizes, read when the gauges are scraped. */
export interface TxPoolSizes {
  pending: number
  queued: number
  blobTxs: number
  blobBytes: number
}

export interface TxPoolMetrics {
  /**
   * Where the size gauges read their values when scraped (set by the pool): updating four gauges
   * per admitted transaction (a label lookup and an object each) was per-transaction garbage for a
   * figure read every few seconds.
   */
  sizes: { source?: () => TxPoolSizes }
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
  const sizes: TxPoolMetrics['sizes'] = {}
  /** A gauge set from the pool's sizes when scraped. */
  const size = (name: string, help: string, of: (s: TxPoolSizes) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect(this: Gauge) {
        const s = sizes.source?.()
        if (s) this.set(of(s))
      },
    })
  return {
    sizes,
    pending: size('cairn_txpool_pending', 'Executable transactions in the pool', (s) => s.pending),
    queued: size('cairn_txpool_queued', 'Nonce-gapped transactions in the pool', (s) => s.queued),
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
    blobTxs: size('cairn_txpool_blob_txs', 'Blob transactions in the pool', (s) => s.blobTxs),
    blobBytes: size(
      'cairn_txpool_blob_bytes',
      'Bytes of blobs held beside the pool (128 KiB per blob)',
      (s) => s.blobBytes,
    ),
    blobVerifySeconds: new Histogram({
      name: 'cairn_txpool_blob_verify_seconds',
      help: "Time to verify a blob transaction's KZG proofs",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  }
}
