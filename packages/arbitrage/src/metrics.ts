// The engine's Prometheus metrics (cairn_arb_*). Components take `ArbMetrics | null`.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface ArbMetrics {
  /** Opportunities found by the search (net profit ≥ the minimum). */
  opportunities: Counter<'stage'>
  /** Trades mined, by status (success, reverted). */
  trades: Counter<'status'>
  /** Realised profit in base-token units (a float: exact amounts are in the trade records). */
  profit: Counter<'token'>
  /** Search and sizing time per block. */
  searchSeconds: Histogram
  /** From seeing a block to sending the trade it prompted. */
  blockToTxSeconds: Histogram
  /** 1 while the breaker is open or half-open (not closed). */
  breakerOpen: Gauge
  /** 1 while this executor holds its signing account's lease (it trades only then). */
  signerLease: Gauge
  /** The breaker's state changes, by the state entered (open, half_open, closed); every label exported at 0. */
  breakerTransitions: Counter<'to'>
  /** Trades that failed, by kind: fault (counts towards the breaker) or lost_race (the pools moved first: not counted). */
  tradeFailures: Counter<'kind'>
  /** Pools tracked and cycles indexed. */
  pools: Gauge
  cycles: Gauge
  /** Blocks undone by reorgs. */
  reorgedBlocks: Counter
  /** Queue deliveries of an opportunity already claimed (not executed again). */
  duplicates: Counter
  /** 1 for the reason trading is stopped (kill-switch, kill-file, rpc-breaker, daily-loss), 0 otherwise. */
  stopped: Gauge<'reason'>
  /** Consecutive failed polls of the chain's RPC. */
  rpcFailures: Counter
  /** 1 while the WebSocket subscription (new heads, pool logs) is live; 0 while polling instead. */
  wsConnected: Gauge
  /** Times the WebSocket subscription went down. */
  wsDisconnects: Counter
  /** Search worker threads that failed or exited (their share was sized on the main thread). */
  searchWorkerFailures: Counter
  /** Cycles and tokens put in quarantine (their simulations reverted in the path), by kind. */
  quarantines: Counter<'kind'>
  /** Cycles and tokens sitting out now, by kind. */
  quarantined: Gauge<'kind'>
}

/** Registers the arbitrage metrics on `registry` (service-kit's registry in the service). */
export function createArbMetrics(registry: Registry): ArbMetrics {
  const registers = [registry]
  return {
    opportunities: new Counter({
      name: 'cairn_arb_opportunities_total',
      help: 'Opportunities by pipeline stage: found, simulated, rejected (simulation failed or below the minimum after gas), skipped (kill switch, breaker, gas cap), executed',
      labelNames: ['stage'],
      registers,
    }),
    trades: new Counter({
      name: 'cairn_arb_trades_total',
      help: 'Trades mined, by status (success, reverted)',
      labelNames: ['status'],
      registers,
    }),
    profit: new Counter({
      name: 'cairn_arb_profit_base_units_total',
      help: "Realised gross profit in the base token's smallest unit, by token address",
      labelNames: ['token'],
      registers,
    }),
    searchSeconds: new Histogram({
      name: 'cairn_arb_search_seconds',
      help: 'Search and sizing time for the cycles through the pools one poll changed',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    blockToTxSeconds: new Histogram({
      name: 'cairn_arb_block_to_tx_seconds',
      help: 'From the poll that saw a block to sending the trade it prompted',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    breakerOpen: new Gauge({
      name: 'cairn_arb_breaker_open',
      help: '1 while the circuit breaker stops trading',
      registers,
    }),
    signerLease: new Gauge({
      name: 'cairn_arb_signer_lease',
      help: "1 while this executor holds its signing account's lease (it trades only then); 0 while another holds it",
      registers,
    }),
    pools: new Gauge({ name: 'cairn_arb_pools', help: 'Pools tracked', registers }),
    cycles: new Gauge({ name: 'cairn_arb_cycles', help: 'Cycles through the base token indexed', registers }),
    reorgedBlocks: new Counter({
      name: 'cairn_arb_reorged_blocks_total',
      help: 'Blocks whose effects the pool tracker undid after a reorg',
      registers,
    }),
    duplicates: new Counter({
      name: 'cairn_arb_queue_duplicates_total',
      help: 'Queue deliveries of an opportunity another delivery already claimed (not executed again)',
      registers,
    }),
    stopped: new Gauge({
      name: 'cairn_arb_stopped',
      help: '1 for the reason no new trade starts (kill-switch, kill-file, rpc-breaker, daily-loss)',
      labelNames: ['reason'],
      registers,
    }),
    rpcFailures: new Counter({
      name: 'cairn_arb_rpc_failures_total',
      help: "Polls of the chain's JSON-RPC that failed",
      registers,
    }),
    wsConnected: new Gauge({
      name: 'cairn_arb_ws_connected',
      help: 'WebSocket subscription to new heads and pool logs live (1) or down / not configured (0)',
      registers,
    }),
    wsDisconnects: new Counter({
      name: 'cairn_arb_ws_disconnects_total',
      help: 'Times the WebSocket subscription went down (polling took over until it came back)',
      registers,
    }),
    searchWorkerFailures: new Counter({
      name: 'cairn_arb_search_worker_failures_total',
      help: 'Search worker threads that failed or exited (their share of the batch was sized on the main thread; the worker is started again)',
      registers,
    }),
    breakerTransitions: atZero(
      new Counter({
        name: 'cairn_arb_breaker_transitions_total',
        help: "The engine's breaker entering a state (to: open, half_open, closed)",
        labelNames: ['to'],
        registers,
      }),
      'to',
      ['open', 'half_open', 'closed'],
    ),
    tradeFailures: atZero(
      new Counter({
        name: 'cairn_arb_trade_failures_total',
        help: 'Trades that failed (kind: fault, counted by the breaker; lost_race, a revert or simulation because the pools moved first, not counted)',
        labelNames: ['kind'],
        registers,
      }),
      'kind',
      ['fault', 'lost_race'],
    ),
    quarantines: new Counter({
      name: 'cairn_arb_quarantines_total',
      help: 'Cycles and tokens put in quarantine after their simulations reverted in the path (kind: cycle, token)',
      labelNames: ['kind'],
      registers,
    }),
    quarantined: new Gauge({
      name: 'cairn_arb_quarantined',
      help: 'Cycles and tokens sitting out of the search now (kind: cycle, token)',
      labelNames: ['kind'],
      registers,
    }),
  }
}

/** `counter` with each of `values` of `label` exported at 0 (an alert on its rate sees the series from the start). */
function atZero<L extends string>(counter: Counter<L>, label: L, values: string[]): Counter<L> {
  for (const v of values) counter.inc({ [label]: v } as Partial<Record<L, string>>, 0)
  return counter
}
