import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** The chain's metrics. Components take `ChainMetrics | null` (null: not measured). */
export interface ChainMetrics {
  headBlock: Gauge
  headTimestamp: Gauge
  blocksImported: Counter<'status'>
  importSeconds: Histogram
  blockTransactions: Histogram
  blockSizeBytes: Histogram
  blockGasUsed: Histogram
  transactionsProcessed: Counter
  reorgs: Counter
  reorgDepth: Histogram
  importQueueLength: Gauge
  importQueueWaitSeconds: Histogram
  importQueueDropped: Counter
  orphanBlocks: Gauge
  badBlocks: Counter<'code'>
  /** The state node ring the node ring metrics read at each scrape (set by `Chain.open`). */
  stateNodeCache: { source: NodeCacheStats | undefined }
}

/** What the state node ring (`NodeRing`) counts. */
export interface NodeCacheStats {
  readonly hits: number
  readonly misses: number
  readonly usedBytes: number
  readonly size: number
}

export function createChainMetrics(register: Registry): ChainMetrics {
  const registers = [register]
  const stateNodeCache: ChainMetrics['stateNodeCache'] = { source: undefined }
  const counted = (name: string, help: string, read: (s: NodeCacheStats) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        const s = stateNodeCache.source
        if (s === undefined) return
        this.reset()
        this.inc(read(s))
      },
    })
  const gauged = (name: string, help: string, read: (s: NodeCacheStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = stateNodeCache.source
        if (s !== undefined) this.set(read(s))
      },
    })
  counted(
    'cairn_state_node_cache_hits_total',
    'State trie nodes read from the node cache (no LevelDB read)',
    (s) => s.hits,
  )
  counted('cairn_state_node_cache_misses_total', 'State trie nodes the node cache did not hold', (s) => s.misses)
  gauged(
    'cairn_state_node_cache_bytes',
    'Bytes of the node cache in use (entries and their headers)',
    (s) => s.usedBytes,
  )
  gauged('cairn_state_node_cache_entries', 'State trie nodes held in the node cache', (s) => s.size)
  return {
    stateNodeCache,
    headBlock: new Gauge({ name: 'cairn_chain_head_block', help: 'Number of the head block', registers }),
    headTimestamp: new Gauge({
      name: 'cairn_chain_head_timestamp_seconds',
      help: 'Timestamp of the head block',
      registers,
    }),
    blocksImported: new Counter({
      name: 'cairn_blocks_imported_total',
      help: 'Blocks imported, by outcome (head, side, known, invalid)',
      labelNames: ['status'],
      registers,
    }),
    importSeconds: new Histogram({
      name: 'cairn_block_import_seconds',
      help: 'Time to validate, execute and commit a block',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    blockTransactions: new Histogram({
      name: 'cairn_block_transactions',
      help: 'Transactions per imported block',
      buckets: [0, 1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers,
    }),
    blockSizeBytes: new Histogram({
      name: 'cairn_block_size_bytes',
      help: 'RLP size of imported blocks',
      buckets: [1e3, 1e4, 5e4, 1e5, 5e5, 1e6, 2e6],
      registers,
    }),
    blockGasUsed: new Histogram({
      name: 'cairn_block_gas_used',
      help: 'Gas used per imported block',
      buckets: [0, 21000, 1e5, 1e6, 5e6, 1e7, 2e7, 3e7],
      registers,
    }),
    transactionsProcessed: new Counter({
      name: 'cairn_transactions_processed_total',
      help: 'Transactions in imported canonical blocks',
      registers,
    }),
    reorgs: new Counter({ name: 'cairn_chain_reorgs_total', help: 'Canonical chain reorganisations', registers }),
    reorgDepth: new Histogram({
      name: 'cairn_chain_reorg_depth',
      help: 'Blocks removed from the canonical chain per reorg',
      buckets: [1, 2, 4, 8, 16, 64],
      registers,
    }),
    importQueueLength: new Gauge({
      name: 'cairn_block_import_queue_length',
      help: 'Blocks from outside waiting in the import queue (processBlock)',
      registers,
    }),
    importQueueWaitSeconds: new Histogram({
      name: 'cairn_block_import_queue_wait_seconds',
      help: 'Time a block waited in the import queue before its turn',
      buckets: [0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    importQueueDropped: new Counter({
      name: 'cairn_block_import_queue_dropped_total',
      help: 'Blocks ignored because the import queue was full',
      registers,
    }),
    orphanBlocks: new Gauge({
      name: 'cairn_block_orphans',
      help: 'Blocks waiting in the orphan pool for an unknown parent',
      registers,
    }),
    badBlocks: new Counter({
      name: 'cairn_block_bad_total',
      help: 'Blocks refused as invalid (remembered in the bad-block cache), by error code',
      labelNames: ['code'],
      registers,
    }),
  }
}
