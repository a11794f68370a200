// The pipeline, one block at a time: the pool collector applies the new blocks → the strategy
// searches the cycles through the pools they changed, sizes them in closed form and prices their
// gas → the risk limits decide → each trade is simulated against the pending block and, if it
// still clears the minimum profit with its simulated gas, sent and awaited.
import { isCairnError, type Logger } from '@cairn/utils'
import type { PublicClient } from 'viem'
import { ArbErrorCode } from './errors.ts'
import { type Execution, type ExecutorClient, gasLimitFor, type Simulation } from './execution/executor.ts'
import type { TokenGraph } from './graph/token-graph.ts'
import type { ArbMetrics } from './metrics.ts'
import type { BlockUpdate, PoolTracker } from './pools/tracker.ts'
import { isPathRevert, Quarantine, type QuarantineOptions } from './risk/quarantine.ts'
import { defaultGasUnits, findOpportunities, type Opportunity, selectDisjoint } from './strategy/search.ts'
import type { SizingPool } from './strategy/sizing-pool.ts'

export interface RiskLimits {
  /** Least net profit (after gas), in base units, for a trade to be sent. */
  minProfit: bigint
  /** Largest input per trade, in base units. */
  maxIn?: bigint
  /** No trade while the fee per gas would exceed this (wei). */
  gasPriceCap?: bigint
  /** Trades sent per block at most (disjoint pools). Default 1. */
  maxTradesPerBlock?: number
  /**
   * The breaker opens (no trades) after this many failures in a row: trades reverted on chain or
   * not sent, and simulations that failed without reverting in the path (the RPC, or the executor
   * refusing: not its owner, a bad path). A simulation the path reverts (too little profit, a pair
   * or token refusing) quarantines its cycle instead (see risk/quarantine.ts). Default 3.
   */
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
  /** How long cycles and tokens whose simulations revert in the path sit out (see risk/quarantine.ts). */
  quarantine?: QuarantineOptions
  /**
   * Candidates sized exactly per search, the float look's best (see SearchOptions.maxSized): at
   * most 64 trades a block are taken, and sizing thousands in a busy market cost most of the
   * search. The rest are searched again next block. Default 256.
   */
  maxSized?: number
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
  /** The live limits (the service's configuration table); `opts.limits` when absent. */
  limits?: () => RiskLimits
  /** Limits the engine does not hold itself: per-token exposure, the daily loss (the service's RiskGuard). */
  risk?: RiskHooks | null
  /** Gives each trade its nonce (one owner per signing account); the wallet's own when absent. */
  nonces?: NonceSource | null
  /** Worker threads for the exact sizing (over `graph`); on this thread when absent. */
  sizing?: SizingPool | null
  /** Cycles and tokens sitting out; the engine keeps its own (`opts.quarantine`) when absent. */
  quarantine?: Quarantine | null
}

/** What the engine asks and tells the risk state around it (see risk/guard.ts). */
export interface RiskHooks {
  /** A reason not to take `o` now, or null. */
  allow(o: Opportunity): string | null
  /** `o` was sent: its input is in flight. */
  sent(o: Opportunity): void
  /** `o` settled; `realized` = its profit less its gas, in base units (negative when it reverted). */
  settled(o: Opportunity, realized: bigint): void
}

/** Nonces for the signing account (see execution/nonce-manager.ts). */
export interface NonceSource {
  next(): Promise<number>
  /** The transaction with `nonce` was mined (or dropped). */
  settled(nonce: number): void
  /** A send failed: the nonce may not have been used; read the account's nonce again. */
  resync(): Promise<void>
}

/** The fees one search priced its trades at. */
export interface GasQuote {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export type Decision =
  | { kind: 'executed'; opportunity: Opportunity; simulation: Simulation & { ok: true }; execution: Execution }
  | {
      kind: 'simulation-failed'
      opportunity: Opportunity
      simulation: Simulation & { ok: false }
      /** The path reverted: the cycle was quarantined (else the failure fed the breaker). */
      quarantined: boolean
    }
  | { kind: 'below-min-profit'; opportunity: Opportunity; netAfterGas: bigint }
  | {
      kind: 'skipped'
      opportunity: Opportunity
      why: 'killed' | 'breaker-open' | 'gas-price-cap' | 'risk'
      detail?: string
    }
  | { kind: 'send-failed'; opportunity: Opportunity; error: string }

export interface StepResult {
  updates: BlockUpdate[]
  found: Opportunity[]
  decisions: Decision[]
}

export class ArbEngine {
  private failures = 0
  /**
   * Cycle ids of opportunities found but not taken (over the per-block limit, killed, refused) and
   * of candidates not sized (past `maxSized`): looked at again next step even if no block touches
   * their pools, so the incremental search does not forget a standing mispricing. (Their cycles
   * only: another cycle through the same pools that did not pay cannot pay until a pool moves.)
   */
  private readonly carried = new Set<number>()
  private readonly tip: bigint
  private readonly gasUnits: (hops: number) => bigint
  private readonly marginPercent: number
  /** Cycles and tokens whose simulations reverted in the path, sitting out for a while. */
  readonly quarantine: Quarantine
  /** The newest block the collector applied (the quarantine counts in blocks). */
  private head = 0n

  constructor(
    private readonly opts: ArbEngineOptions,
    private readonly modules: ArbEngineModules,
  ) {
    this.tip = opts.tip ?? 1_000_000_000n
    this.gasUnits = opts.gasUnits ?? defaultGasUnits
    this.marginPercent = opts.gasMarginPercent ?? 20
    this.quarantine =
      modules.quarantine ??
      new Quarantine(opts.quarantine ?? {}, { logger: modules.logger, metrics: modules.metrics ?? null })
  }

  /** The newest block applied (0 before the first). */
  get block(): bigint {
    return this.head
  }

  /** True while consecutive failures keep the breaker open (reset with `resetBreaker`). */
  get breakerOpen(): boolean {
    return this.failures >= (this.limits.maxConsecutiveFailures ?? 3)
  }

  /** The limits in force (read live when the service hands a source). */
  get limits(): RiskLimits {
    return this.modules.limits ? this.modules.limits() : this.opts.limits
  }

  resetBreaker(): void {
    this.failures = 0
  }

  /** Applies the node's new blocks, then searches and trades on what they changed. */
  async step(): Promise<StepResult> {
    const { updates, changed, seen } = await this.collect()
    if (changed.size === 0 && this.carried.size === 0) return { updates, found: [], decisions: [] }
    return { updates, ...(await this.trade(changed, seen)) }
  }

  /**
   * Applies the node's new blocks: the pools they changed and when the poll saw them. The service's
   * strategy then searches them (with what is {@link carrying}) and queues.
   */
  async collect(): Promise<{ updates: BlockUpdate[]; changed: Set<`0x${string}`>; seen: number }> {
    const seen = this.now()
    const updates = await this.modules.tracker.poll()
    const changed = new Set<`0x${string}`>()
    for (const u of updates) {
      for (const p of u.changed) changed.add(p)
      if (u.reorgDepth) this.modules.metrics?.reorgedBlocks.inc(u.reorgDepth)
      this.head = u.number
    }
    if (updates.length > 0) this.quarantine.export(this.head)
    const m = this.modules.metrics
    if (m) {
      m.pools.set(this.modules.graph.poolCount)
      m.cycles.set(this.modules.graph.cycleCount)
    }
    return { updates, changed, seen }
  }

  /** Cycles the next search looks at again whatever the blocks change (untaken, unsized). */
  get carrying(): number {
    return this.carried.size
  }

  private now(): number {
    return this.modules.now ? this.modules.now() : performance.now()
  }

  /** The fees a trade sent now would be priced at: the most it may pay per gas, with our tip. */
  async quote(): Promise<GasQuote> {
    const fees = await this.modules.public.estimateFeesPerGas()
    // price gas at the most the transaction may pay: the profit after gas is a floor
    return { maxFeePerGas: fees.maxFeePerGas - fees.maxPriorityFeePerGas + this.tip, maxPriorityFeePerGas: this.tip }
  }

  /**
   * Searches the cycles through `changed` (all when absent): every opportunity found, and the
   * pool-disjoint best ones to take this block (at most `maxTradesPerBlock`) among those not in
   * quarantine.
   */
  async search(
    changed?: Iterable<`0x${string}`>,
  ): Promise<{ found: Opportunity[]; selected: Opportunity[]; quote: GasQuote }> {
    const m = this.modules.metrics ?? null
    const limits = this.limits
    const quote = await this.quote()
    const toBase = this.opts.weiToBase ?? ((w: bigint) => w)
    const searchStart = this.now()
    const deferred = new Set<number>()
    const searchOpts = {
      gas: { gasUnits: this.gasUnits, gasPrice: quote.maxFeePerGas, weiToBase: toBase },
      minProfit: limits.minProfit,
      ...(limits.maxIn !== undefined ? { maxIn: limits.maxIn } : {}),
      maxSized: this.opts.maxSized ?? 256,
      deferred,
      also: changed ? [...this.carried] : [],
      // quarantined cycles are not sized (nor take a place among the best): deferred, they come back when their sit-out ends
      ...(this.quarantine.empty
        ? {}
        : { exclude: (id: number) => this.quarantine.blocked(this.modules.graph.cycleById(id), this.head) !== null }),
    }
    const sizing = this.modules.sizing
    const found = sizing
      ? await sizing.find(searchOpts, changed)
      : findOpportunities(this.modules.graph, searchOpts, changed)
    if (m) {
      m.searchSeconds.observe((this.now() - searchStart) / 1000)
      m.opportunities.inc({ stage: 'found' }, found.length)
    }
    this.carried.clear()
    for (const o of found) {
      const id = this.modules.graph.cycleIdOf(o.cycle.key)
      if (id !== undefined) this.carried.add(id)
    }
    for (const id of deferred) this.carried.add(id)
    return { found, selected: selectDisjoint(found).slice(0, limits.maxTradesPerBlock ?? 1), quote }
  }

  /** Searches the cycles through `changed` (all when absent) and trades the best. */
  async trade(changed?: Iterable<`0x${string}`>, seen = this.now()): Promise<Omit<StepResult, 'updates'>> {
    const { found, selected, quote } = await this.search(changed)
    const decisions: Decision[] = []
    for (const o of selected) decisions.push(await this.decide(o, quote, seen))
    return { found, decisions }
  }

  /** Whether a stop (kill switch, breaker, gas cap, risk) keeps `o` from being sent now. */
  private stopped(o: Opportunity, quote: GasQuote): Decision | null {
    const m = this.modules.metrics ?? null
    const skip = (why: 'killed' | 'breaker-open' | 'gas-price-cap' | 'risk', detail?: string): Decision => {
      m?.opportunities.inc({ stage: 'skipped' })
      return { kind: 'skipped', opportunity: o, why, ...(detail ? { detail } : {}) }
    }
    if (this.modules.killed?.()) return skip('killed')
    if (this.breakerOpen) return skip('breaker-open')
    const cap = this.limits.gasPriceCap
    if (cap !== undefined && quote.maxFeePerGas > cap) return skip('gas-price-cap')
    const refused = this.modules.risk?.allow(o)
    if (refused) return skip('risk', refused)
    return null
  }

  /**
   * Takes one opportunity through the risk checks, the simulation against the pending block and,
   * if it still clears the minimum after its simulated gas, the send and the receipt. The work
   * queue's executors call this for each opportunity they claim.
   */
  async decide(o: Opportunity, quote: GasQuote, seen = this.now()): Promise<Decision> {
    const { graph, executor, logger } = this.modules
    const m = this.modules.metrics ?? null
    const limits = this.limits
    const toBase = this.opts.weiToBase ?? ((w: bigint) => w)
    const stop = this.stopped(o, quote)
    if (stop) return stop
    // proven profitable at all against the pending block; the net after the simulated gas decides
    const sim = await executor.simulate(graph, o, 1n)
    m?.opportunities.inc({ stage: 'simulated' })
    if (!sim.ok) {
      m?.opportunities.inc({ stage: 'rejected' })
      let quarantined = false
      if (isPathRevert(sim.revert)) {
        // the path cannot be traded now: its cycle sits out (the quarantine logs it), the breaker is not fed
        this.quarantine.failed(o.cycle, this.head, sim.revert)
        quarantined = true
      } else {
        this.failures++
        m?.breakerOpen.set(this.breakerOpen ? 1 : 0)
        logger.warn({ cycle: o.cycle.key, reason: sim.reason, revert: sim.revert }, 'simulation failed')
      }
      return { kind: 'simulation-failed', opportunity: o, simulation: sim, quarantined }
    }
    this.quarantine.succeeded(o.cycle, this.head)
    // priced at the gas limit: what is used can only be less
    const gas = gasLimitFor(sim.gas, o.cycle.pools.length, this.marginPercent)
    const netAfterGas = sim.profit - toBase(gas * quote.maxFeePerGas)
    if (netAfterGas < limits.minProfit) {
      m?.opportunities.inc({ stage: 'rejected' })
      return { kind: 'below-min-profit', opportunity: o, netAfterGas }
    }
    const late = this.stopped(o, quote)
    if (late) return late
    m?.blockToTxSeconds.observe((this.now() - seen) / 1000)
    const nonces = this.modules.nonces ?? null
    const nonce = nonces ? await nonces.next() : undefined
    this.modules.risk?.sent(o)
    let execution: Execution
    try {
      // the contract's minimum is the gas at the offered fee plus ours: a replacement offering more
      // per gas asks for more, so no send nets less than minProfit (it reverts instead)
      const minProfitAt = (maxFeePerGas: bigint) => toBase(gas * maxFeePerGas) + limits.minProfit
      execution = await executor.execute(graph, o, minProfitAt(quote.maxFeePerGas), {
        gas,
        maxFeePerGas: quote.maxFeePerGas,
        maxPriorityFeePerGas: quote.maxPriorityFeePerGas,
        ...(nonce !== undefined ? { nonce } : {}),
        minProfitAt,
      })
    } catch (err) {
      this.modules.risk?.settled(o, 0n)
      this.failures++
      // A trade stuck past its deadline still holds its nonce: every later trade of this account
      // would queue behind it, so the breaker opens now rather than after more failures.
      const stuck = isCairnError(err, ArbErrorCode.TRADE_STUCK)
      if (stuck) this.failures = Math.max(this.failures, limits.maxConsecutiveFailures ?? 3)
      await nonces?.resync()
      const error = err instanceof Error ? err.message : String(err)
      if (stuck) {
        logger.error({ cycle: o.cycle.key, err: error, ...err.meta, hint: err.hint }, 'trade stuck: breaker open')
        m?.breakerOpen.set(1)
      } else logger.warn({ cycle: o.cycle.key, err: error }, 'sending the trade failed')
      return { kind: 'send-failed', opportunity: o, error }
    }
    if (nonce !== undefined) nonces?.settled(nonce)
    this.modules.risk?.settled(o, execution.profit - toBase(execution.gasUsed * execution.effectiveGasPrice))
    if (execution.status === 'reverted') this.failures++
    else this.failures = 0
    if (m) {
      m.opportunities.inc({ stage: 'executed' })
      m.trades.inc({ status: execution.status })
      if (execution.profit > 0n) m.profit.inc({ token: o.cycle.tokens[0]! }, Number(execution.profit))
      m.breakerOpen.set(this.breakerOpen ? 1 : 0)
    }
    return { kind: 'executed', opportunity: o, simulation: sim, execution }
  }
}
