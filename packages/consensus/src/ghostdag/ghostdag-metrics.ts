/**
 * The GhostDAG engine's metrics (`cairn_ghostdag_*`), fed by `DagView`. Labelled series whose
 * label values are a closed set (colours, chain-change depth buckets) are exported at 0 from the
 * start, so `increase(x[5m]) > 0` can fire on a node that has not counted one yet.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface GhostdagMetrics {
  /** Blocks added to this node's DAG. */
  blocks: Counter<string>
  /** Blocks the virtual chain accepted, by colour (a gauge: a chain change takes some back). */
  acceptedBlocks: Gauge<'color'>
  /** Each added block's mergeset size, its selected parent included. */
  mergesetSize: Histogram<string>
  /** Moves of the virtual selected parent, by the chain blocks they rolled back. */
  virtualChainChanges: Counter<'depth'>
  /** The sink's blue score. */
  blueScore: Gauge<string>
  /** Tips of this node's DAG. */
  tips: Gauge<string>
  /** DAG blocks by the coinbase that mined them (every block this node added, chain or not). */
  minerBlocks: Counter<'coinbase'>
  /**
   * Block rewards the virtual chain pays, in ether, by coinbase: a chain block's own and one per
   * blue block it merges (a gauge: a chain change takes back what the removed chain blocks paid).
   */
  minerRewards: Gauge<'coinbase'>
}

/** Depth buckets of {@link GhostdagMetrics.virtualChainChanges} (0: the chain only grew). */
export const CHAIN_CHANGE_DEPTH_BUCKETS = ['0', '1', '2-3', '4-7', '8-15', '16+'] as const

/** The bucket of a chain change that rolled back `depth` chain blocks. */
export function chainChangeDepthBucket(depth: number): (typeof CHAIN_CHANGE_DEPTH_BUCKETS)[number] {
  if (depth <= 0) return '0'
  if (depth === 1) return '1'
  if (depth <= 3) return '2-3'
  if (depth <= 7) return '4-7'
  if (depth <= 15) return '8-15'
  return '16+'
}

export function createGhostdagMetrics(register: Registry, opts: { coinbase?: string } = {}): GhostdagMetrics {
  const registers = [register]
  const m: GhostdagMetrics = {
    blocks: new Counter({
      name: 'cairn_ghostdag_blocks_total',
      help: 'Blocks added to this node’s DAG',
      registers,
    }),
    acceptedBlocks: new Gauge({
      name: 'cairn_ghostdag_accepted_blocks',
      help: 'Blocks the virtual selected-parent chain accepted, by colour (blue or red)',
      labelNames: ['color'],
      registers,
    }),
    mergesetSize: new Histogram({
      name: 'cairn_ghostdag_mergeset_size',
      help: 'Blocks in each added block’s mergeset, its selected parent included',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256],
      registers,
    }),
    virtualChainChanges: new Counter({
      name: 'cairn_ghostdag_virtual_chain_changes_total',
      help: 'Moves of the virtual selected parent, by the chain blocks rolled back (0: the chain grew)',
      labelNames: ['depth'],
      registers,
    }),
    blueScore: new Gauge({
      name: 'cairn_ghostdag_blue_score',
      help: 'The blue score of the sink (the virtual’s selected parent)',
      registers,
    }),
    tips: new Gauge({
      name: 'cairn_ghostdag_tips',
      help: 'Blocks of this node’s DAG with no children yet',
      registers,
    }),
    minerBlocks: new Counter({
      name: 'cairn_ghostdag_miner_blocks_total',
      help: 'DAG blocks this node added, by the coinbase that mined them',
      labelNames: ['coinbase'],
      registers,
    }),
    minerRewards: new Gauge({
      name: 'cairn_ghostdag_miner_rewards_ether',
      help: 'Block rewards the virtual chain pays, in ether, by coinbase (the chain block and each blue it merges)',
      labelNames: ['coinbase'],
      registers,
    }),
  }
  // This node's own coinbase is exported at 0 from the start (other miners' appear as they mine).
  if (opts.coinbase !== undefined) {
    m.minerBlocks.inc({ coinbase: opts.coinbase }, 0)
    m.minerRewards.set({ coinbase: opts.coinbase }, 0)
  }
  for (const color of ['blue', 'red']) m.acceptedBlocks.set({ color }, 0)
  for (const depth of CHAIN_CHANGE_DEPTH_BUCKETS) m.virtualChainChanges.inc({ depth }, 0)
  return m
}
