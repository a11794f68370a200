// The pipeline, one block at a time: the pool collector applies the new blocks → the strategy
// searches the cycles through the pools they changed, sizes them in closed form and prices their
// gas → the risk limits decide → each trade is simulated against the pending block and, if it
// still clears the minimum profit with its simulated gas, sent and awaited.
import type { Logger } from '@cairn/utils'
import type { PublicClient } from 'viem'
import { type Execution, type ExecutorClient, gasLimitFor, type Simulation } from './execution/executor.ts'
import type { TokenGraph } from './graph/token-graph.ts'
import type { ArbMetrics } from './metrics.ts'
import type { BlockUpdate, PoolTracker } from './pools/tracker.ts'
import { defaultGasUnits, findOpportunities, type Opportunity, selectDisjoint } from './strategy/search.ts'

export interface RiskLimits {
  /** Least net profit (after gas), in base units, for a trade to be sent. */
  minProfit: bigint
  /** Largest input per trade, in base units. */
  maxIn?: bigint
  /** No trade while the fee per gas would exceed this (wei). */
  gasPriceCap?: bigint
  /** Trades sent per block at most (disjoint pools). Default 1. */
  maxTradesPerBlock?: number
  /** The breaker opens (no trades) after this many reverted trades or simulations in a row. Default 3. */
  maxConsecutiveFailures?: number
}

export interface ArbEngineOptions {
  limits: RiskLimits
  /** Priority fee offered per gas (wei). Default 1 gwei. */
  tip?: bigint
  /** Gas units expected for a cycle of n hops, before simulation. */
  gasUnits?: (hops: number) => bigint
  /** Wei → base-token units (default: the base token is the wrapped native token, 1:1). */
  weiToBase?: (wei: bigint) => bigint
  /** Gas added to the simulated estimate when sending, in percent (plus the pairs' slack, see gasLimitFor). Default 20. */
  gasMarginPercent?: number
}

export interface ArbEngineModules {
  graph: TokenGraph
  tracker: PoolTracker
  executor: ExecutorClient
  public: PublicClient
  logger: Logger
  /** The kill switch: while it returns true no new trade is sent (checked before each send). */
  killed?: () => boolean
  metrics?: ArbMetrics | null
  /** Milliseconds, monotonic (default performance.now): search and block-to-transaction timings. */
  now?: () => number
}

export type Decision =
  | { kind: 'executed'; opportunity: Opportunity; simulation: Simulation & { ok: true }; execution: Execution }
  | { kind: 'simulation-failed'; opportunity: Opportunity; simulation: Simulation & { ok: false } }
  | { kind: 'below-min-profit'; opportunity: Opportunity; netAfterGas: bigint }
  | { kind: 'skipped'; opportunity: Opportunity; why: 'killed' | 'breaker-open' | 'gas-price-cap' }

export interface StepResult {
  updates: BlockUpdate[]
  found: Opportunity[]
  decisions: Decision[]
}

export class ArbEngine {
  private failures = 0
  /**
   * Pools of opportunities found but not taken (over the per-block limit, killed, refused): their
   * cycles are searched again next step even if no block touches them, so the incremental search
   * does not forget a standing mispricing.
   */
  private readonly carried = new Set<`0x${string}`>()
  private readonly tip: bigint
  private readonly gasUnits: (hops: number) => bigint
  private readonly marginPercent: number

  constructor(
    private readonly opts: ArbEngineOptions,
    private readonly modules: ArbEngineModules,
  ) {
    this.tip = opts.tip ?? 1_000_000_000n
    this.gasUnits = opts.gasUnits ?? defaultGasUnits
    this.marginPercent = opts.gasMarginPercent ?? 20
  }

  /** True while consecutive failures keep the breaker open (reset with `resetBreaker`). */
  get breakerOpen(): boolean {
    return this.failures >= (this.opts.limits.maxConsecutiveFailures ?? 3)
  }

  resetBreaker(): void {
    this.failures = 0
  }

  /** Applies the node's new blocks, then searches and trades on what they changed. */
  async step(): Promise<StepResult> {
    const seen = this.now()
    const updates = await this.modules.tracker.poll()
    const changed = new Set<`0x${string}`>()
    for (const u of updates) {
      for (const p of u.changed) changed.add(p)
      if (u.reorgDepth) this.modules.metrics?.reorgedBlocks.inc(u.reorgDepth)
    }
    const m = this.modules.metrics
    if (m) {
      m.pools.set(this.modules.graph.poolCount)
      m.cycles.set(this.modules.graph.cycleCount)
    }
    for (const p of this.carried) changed.add(p)
    if (changed.size === 0) return { updates, found: [], decisions: [] }
    return { updates, ...(await this.trade(changed, seen)) }
  }

  private now(): number {
    return this.modules.now ? this.modules.now() : performance.now()
  }

  /** Searches the cycles through `changed` (all when absent) and trades the best. */
  async trade(changed?: Iterable<`0x${string}`>, seen = this.now()): Promise<Omit<StepResult, 'updates'>> {
    const { graph, executor, logger } = this.modules
    const m = this.modules.metrics ?? null
    const { limits } = this.opts
    const fees = await this.modules.public.estimateFeesPerGas()
    const maxPriorityFeePerGas = this.tip
    // price gas at the most the transaction may pay: the profit after gas is a floor
    const maxFeePerGas = fees.maxFeePerGas - fees.maxPriorityFeePerGas + this.tip
    const toBase = this.opts.weiToBase ?? ((w: bigint) => w)
    const searchStart = this.now()
    const found = findOpportunities(
      graph,
      {
        gas: { gasUnits: this.gasUnits, gasPrice: maxFeePerGas, weiToBase: toBase },
        minProfit: limits.minProfit,
        ...(limits.maxIn !== undefined ? { maxIn: limits.maxIn } : {}),
      },
      changed,
    )
    if (m) {
      m.searchSeconds.observe((this.now() - searchStart) / 1000)
      m.opportunities.inc({ stage: 'found' }, found.length)
    }
    const decisions: Decision[] = []
    this.carried.clear()
    for (const o of found) for (const p of o.cycle.pools) this.carried.add(p)
    for (const o of selectDisjoint(found).slice(0, limits.maxTradesPerBlock ?? 1)) {
      if (this.modules.killed?.()) {
        decisions.push({ kind: 'skipped', opportunity: o, why: 'killed' })
        m?.opportunities.inc({ stage: 'skipped' })
        continue
      }
      if (this.breakerOpen) {
        m?.opportunities.inc({ stage: 'skipped' })
        decisions.push({ kind: 'skipped', opportunity: o, why: 'breaker-open' })
        continue
      }
      if (limits.gasPriceCap !== undefined && maxFeePerGas > limits.gasPriceCap) {
        m?.opportunities.inc({ stage: 'skipped' })
        decisions.push({ kind: 'skipped', opportunity: o, why: 'gas-price-cap' })
        continue
      }
      // proven profitable at all against the pending block; the net after the simulated gas decides
      const sim = await executor.simulate(graph, o, 1n)
      m?.opportunities.inc({ stage: 'simulated' })
      if (!sim.ok) {
        this.failures++
        m?.opportunities.inc({ stage: 'rejected' })
        m?.breakerOpen.set(this.breakerOpen ? 1 : 0)
        logger.warn({ cycle: o.cycle.key, reason: sim.reason, revert: sim.revert }, 'simulation failed')
        decisions.push({ kind: 'simulation-failed', opportunity: o, simulation: sim })
        continue
      }
      // priced at the gas limit: what is used can only be less
      const gas = gasLimitFor(sim.gas, o.cycle.pools.length, this.marginPercent)
      const netAfterGas = sim.profit - toBase(gas * maxFeePerGas)
      if (netAfterGas < limits.minProfit) {
        m?.opportunities.inc({ stage: 'rejected' })
        decisions.push({ kind: 'below-min-profit', opportunity: o, netAfterGas })
        continue
      }
      if (this.modules.killed?.()) {
        decisions.push({ kind: 'skipped', opportunity: o, why: 'killed' })
        m?.opportunities.inc({ stage: 'skipped' })
        continue
      }
      m?.blockToTxSeconds.observe((this.now() - seen) / 1000)
      const execution = await executor.execute(graph, o, toBase(gas * maxFeePerGas) + limits.minProfit, {
        gas,
        maxFeePerGas,
        maxPriorityFeePerGas,
      })
      if (execution.status === 'reverted') this.failures++
      else this.failures = 0
      if (m) {
        m.opportunities.inc({ stage: 'executed' })
        m.trades.inc({ status: execution.status })
        if (execution.profit > 0n) m.profit.inc({ token: o.cycle.tokens[0]! }, Number(execution.profit))
        m.breakerOpen.set(this.breakerOpen ? 1 : 0)
      }
      decisions.push({ kind: 'executed', opportunity: o, simulation: sim, execution })
    }
    return { found, decisions }
  }
}
