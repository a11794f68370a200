/**
 * The proof-of-work engine's metrics (`cairn_pow_*`). Labelled counters whose label values are a
 * closed set (reorg depth buckets, where stale work came from, the configured coinbase) are exported
 * at 0 from the start, so `increase(x[5m]) > 0` can fire on a node that has not counted one yet.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface PowMetrics {
  /** Attempts per second of this node's mining threads (`source="local"`) and what external miners report (`source="external"`). */
  hashRate: Gauge<'source'>
  /** Attempts this node's mining threads made. */
  hashes: Counter<string>
  /** The head block's difficulty (the work of its target: expected attempts). */
  difficulty: Gauge<string>
  /** The head block's target as a number of leading zero bits (log2 of 2^256 / target). */
  targetBits: Gauge<string>
  blocksMined: Counter<'coinbase'>
  /** Block reward plus fees, in ether (a float: Prometheus holds doubles). */
  rewards: Counter<'coinbase'>
  /** Work found or submitted for a template whose parent is no longer the head. */
  staleWork: Counter<'source'>
  /** Seals refused at `eth_submitWork` or from a local thread, by reason. */
  rejectedWork: Counter<'reason'>
  /** Reorgs this node made, by depth (blocks reverted). */
  reorgs: Counter<'depth'>
  /** Heavier branches refused because they would revert more than the reorg limit (alert on it). */
  reorgsRefused: Counter<string>
  /** Side blocks deleted once the head left them more than the reorg limit behind. */
  sideBlocksPruned: Counter<string>
  /** How long a header's seal verification took (one Argon2id). */
  sealVerifySeconds: Histogram<string>
}

/** Depth buckets of {@link PowMetrics.reorgs}. */
export const REORG_DEPTH_BUCKETS = ['1', '2', '3-5', '6-10', '11-100', '101+'] as const

/** The depth bucket of a reorg that reverted `depth` blocks. */
export function reorgDepthBucket(depth: number): (typeof REORG_DEPTH_BUCKETS)[number] {
  if (depth <= 1) return '1'
  if (depth === 2) return '2'
  if (depth <= 5) return '3-5'
  if (depth <= 10) return '6-10'
  if (depth <= 100) return '11-100'
  return '101+'
}

/** The engine's metrics on `register`; `coinbase` (lower-case hex) gets its per-miner series at 0. */
export function createPowMetrics(register: Registry, opts: { coinbase?: string } = {}): PowMetrics {
  const registers = [register]
  const m: PowMetrics = {
    hashRate: new Gauge({
      name: 'cairn_pow_hashrate_hashes_per_second',
      help: 'Seal attempts per second: this node’s mining threads (local) and what external miners report (external)',
      labelNames: ['source'],
      registers,
    }),
    hashes: new Counter({
      name: 'cairn_pow_hashes_total',
      help: 'Seal attempts by this node’s mining threads',
      registers,
    }),
    difficulty: new Gauge({
      name: 'cairn_pow_difficulty',
      help: 'The head block’s difficulty: the work of its target (expected attempts per block)',
      registers,
    }),
    targetBits: new Gauge({
      name: 'cairn_pow_target_leading_zero_bits',
      help: 'log2(2^256 / target) of the head block: the leading zero bits a seal needs',
      registers,
    }),
    blocksMined: new Counter({
      name: 'cairn_pow_blocks_mined_total',
      help: 'Blocks this node sealed (its threads or eth_submitWork) that it committed, by coinbase',
      labelNames: ['coinbase'],
      registers,
    }),
    rewards: new Counter({
      name: 'cairn_pow_rewards_ether_total',
      help: 'Block rewards plus priority fees of the blocks this node sealed, in ether, by coinbase',
      labelNames: ['coinbase'],
      registers,
    }),
    staleWork: new Counter({
      name: 'cairn_pow_stale_work_total',
      help: 'Seals found (local) or submitted (external) for work whose parent is no longer the head',
      labelNames: ['source'],
      registers,
    }),
    rejectedWork: new Counter({
      name: 'cairn_pow_rejected_work_total',
      help: 'Seals refused by eth_submitWork, by reason',
      labelNames: ['reason'],
      registers,
    }),
    reorgs: new Counter({
      name: 'cairn_pow_reorgs_total',
      help: 'Reorganisations of the canonical chain, by depth (blocks reverted)',
      labelNames: ['depth'],
      registers,
    }),
    reorgsRefused: new Counter({
      name: 'cairn_pow_reorgs_refused_total',
      help: 'Heavier branches refused because they would revert more blocks than the reorg limit (pow.maxReorgDepth)',
      registers,
    }),
    sideBlocksPruned: new Counter({
      name: 'cairn_pow_side_blocks_pruned_total',
      help: 'Side blocks (orphaned branches) deleted once the head left them more than the reorg limit behind',
      registers,
    }),
    sealVerifySeconds: new Histogram({
      name: 'cairn_pow_seal_verify_seconds',
      help: 'Time to verify one header’s seal (one Argon2id)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers,
    }),
  }
  for (const source of ['local', 'external']) {
    m.staleWork.inc({ source }, 0)
    m.hashRate.set({ source }, 0)
  }
  for (const reason of ['stale', 'unknown', 'invalid_seal', 'insufficient_work']) m.rejectedWork.inc({ reason }, 0)
  for (const depth of REORG_DEPTH_BUCKETS) m.reorgs.inc({ depth }, 0)
  if (opts.coinbase) {
    m.blocksMined.inc({ coinbase: opts.coinbase }, 0)
    m.rewards.inc({ coinbase: opts.coinbase }, 0)
  }
  return m
}
