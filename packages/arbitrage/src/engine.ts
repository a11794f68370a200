// The pipeline, one block at a time: the pool collector applies the new blocks → the strategy
// searches the cycles through the pools they changed (every cycle at start, after a reconnect, a
// gap in blocks, and every `fullLookEveryBlocks`), sizes them in closed form (transfer fees folded
// in) and prices their gas → the block's trades are planned as the greedy optimum takes them (each
// next one sized on the reserves the earlier ones leave) → the risk limits decide → each trade is
// simulated against the pending block, re-sized if the chain moved on since it was sized, and sent;
// a block's trades go out one after another with consecutive nonces, and their receipts are awaited
// together. A trade through a pool one of our unmined trades moves is sized again on the reserves
// those leave and simulated after them in one block (eth_simulateV1: a bundle), never on the
// plan's word alone. A revert is replayed to tell a lost race (the pools moved first) from a fault;
// only faults feed the breaker (risk/breaker.ts: open, half-open after a cooldown, closed). Its
// options and hooks are engine-options.ts, its decisions decision.ts; what simulations teach of
// transfer fees transfer-fee-learning.ts; which token a revert blames revert-blame.ts.
import { isCairnError } from '@cairn/utils'
import { Mutex } from 'async-mutex'
import type { Decision, GasQuote, Launched, StepResult } from './decision.ts'
import type { ArbEngineModules, ArbEngineOptions, RiskLimits } from './engine-options.ts'
import { ArbErrorCode } from './errors.ts'
import { type Execution, gasLimitFor, type Simulation } from './execution/executor.ts'
import { describeEvidence } from './execution/revert-evidence.ts'
import { signerRefusal } from './execution/signer.ts'
import type { Address, Cycle } from './graph/token-graph.ts'
import { InFlightTrades } from './in-flight.ts'
import { pairAbi } from './pools/abi.ts'
import type { BlockUpdate } from './pools/tracker.ts'
import { blamedToken } from './revert-blame.ts'
import { type BreakerState, TradeBreaker } from './risk/breaker.ts'
import { isLostRace } from './risk/lost-race.ts'
import { isPathRevert, Quarantine } from './risk/quarantine.ts'
import { hopsOn, planBatch, type ReserveView, resized } from './strategy/batch-plan.ts'
import { defaultGasUnits, findOpportunities, type Opportunity } from './strategy/search.ts'
import { TransferFees } from './strategy/transfer-fees.ts'
import { type FeeLearningModules, learnFee, probeFees, withFees } from './transfer-fee-learning.ts'

export type { Decision, GasQuote, StepResult } from './decision.ts'
export type { ArbEngineModules, ArbEngineOptions, NonceSource, RiskHooks, RiskLimits } from './engine-options.ts'
export { blamedToken } from './revert-blame.ts'

export class ArbEngine {
  /** Faults in a row open it; half-open after a cooldown (see risk/breaker.ts). */
  private readonly breaker: TradeBreaker
  /** Our trades sent and not settled, in the order sent (nonce order). */
  private readonly inFlight: InFlightTrades
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
  /** Tokens' transfer fees, learned from simulations that paid less than the fee-blind model. */
  readonly fees: TransferFees
  /** The newest block the collector applied (the quarantine counts in blocks). */
  private head = 0n
  /** The next search looks at every cycle (start, reconnect, a gap in blocks, periodically). */
  private fullLookDue = true
  private lastFullLook = -1n
  /** Pools a send-time refresh saw change before the collector did: searched next time. */
  private readonly missed = new Set<Address>()
  /** Opportunities the plan sized on the reserves earlier trades of their batch leave. */
  private readonly sequenced = new WeakSet<Opportunity>()
  /** Each planned trade's batch: once one of it is not sent, the view its later trades were sized on is wrong. */
  private readonly batchOf = new WeakMap<Opportunity, { broken: boolean }>()
  /** One trade at a time from the checks to the node taking it: nonces in order, each simulated after the last was sent. */
  private readonly sendLock = new Mutex()
  /** The last simulated gas of a cycle of n hops (what the search prices a cycle of that length at). */
  private readonly gasSeen = new Map<number, bigint>()
  /** The graph, the executor and the fee model, for transfer-fee-learning.ts. */
  private readonly feeLearning: FeeLearningModules

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
    this.fees = modules.fees ?? new TransferFees({ logger: modules.logger })
    this.feeLearning = { graph: modules.graph, executor: modules.executor, fees: this.fees }
    this.inFlight = new InFlightTrades({
      ...this.feeLearning,
      public: modules.public,
      metrics: modules.metrics ?? null,
    })
    this.breaker = new TradeBreaker(
      {
        threshold: () => this.limits.maxConsecutiveFailures ?? 3,
        ...(opts.breakerCooldownMs !== undefined ? { cooldownMs: opts.breakerCooldownMs } : {}),
      },
      { logger: modules.logger, metrics: modules.metrics ?? null, now: () => this.now() },
    )
    modules.metrics?.breakerOpen.set(0)
  }

  /** The newest block applied (0 before the first). */
  get block(): bigint {
    return this.head
  }

  /** True while the breaker is not closed: open after faults in a row, or half-open waiting for its trial (reset with `resetBreaker`). */
  get breakerOpen(): boolean {
    return this.breaker.state !== 'closed'
  }

  /** closed, open, or half-open (one trial trade may go). */
  get breakerState(): BreakerState {
    return this.breaker.state
  }

  /** The limits in force (read live when the service hands a source). */
  get limits(): RiskLimits {
    return this.modules.limits ? this.modules.limits() : this.opts.limits
  }

  resetBreaker(): void {
    this.breaker.reset()
  }

  /** The next search looks at every cycle (the subscription came back: notifications were lost). */
  requestFullLook(): void {
    this.fullLookDue = true
  }

  /** Whether the next search looks at every cycle. */
  get wantsFullLook(): boolean {
    return this.fullLookDue
  }

  /** Applies the node's new blocks, then searches and trades on what they changed. */
  async step(): Promise<StepResult> {
    const { updates, changed, seen } = await this.collect()
    if (changed.size === 0 && this.carried.size === 0 && !this.fullLookDue) return { updates, found: [], decisions: [] }
    return { updates, ...(await this.trade(changed, seen)) }
  }

  /**
   * Applies the node's new blocks: the pools they changed and when the poll saw them. The service's
   * strategy then searches them (with what is {@link carrying}) and queues.
   */
  async collect(): Promise<{ updates: BlockUpdate[]; changed: Set<`0x${string}`>; seen: number }> {
    const seen = this.now()
    const updates = await this.modules.tracker.poll()
    const changed = new Set<`0x${string}`>(this.missed)
    this.missed.clear()
    for (const u of updates) {
      for (const p of u.changed) changed.add(p)
      if (u.reorgDepth) {
        this.modules.metrics?.reorgedBlocks.inc(u.reorgDepth)
        this.fullLookDue = true
      }
      this.head = u.number
    }
    if (updates.length > (this.opts.gapBlocks ?? 2)) this.fullLookDue = true
    if (this.lastFullLook >= 0n && this.head - this.lastFullLook >= BigInt(this.opts.fullLookEveryBlocks ?? 64))
      this.fullLookDue = true
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

  private toBase(wei: bigint): bigint {
    return this.opts.weiToBase ? this.opts.weiToBase(wei) : wei
  }

  /** The fees a trade sent now would be priced at: the most it may pay per gas, with our tip. */
  async quote(): Promise<GasQuote> {
    const fees = await this.modules.public.estimateFeesPerGas()
    // price gas at the most the transaction may pay: the profit after gas is a floor
    return { maxFeePerGas: fees.maxFeePerGas - fees.maxPriorityFeePerGas + this.tip, maxPriorityFeePerGas: this.tip }
  }

  /**
   * Searches the cycles through `changed` (every cycle when absent, or when a full look is due):
   * every opportunity found (sized with the known transfer fees), and the block's plan among those
   * not in quarantine (at most `maxTradesPerBlock`: the best, then each next best sized on the
   * reserves the earlier ones leave).
   */
  async search(
    changed?: Iterable<`0x${string}`>,
  ): Promise<{ found: Opportunity[]; selected: Opportunity[]; quote: GasQuote }> {
    const m = this.modules.metrics ?? null
    const limits = this.limits
    const quote = await this.quote()
    const searchStart = this.now()
    const deferred = new Set<number>()
    const full = changed === undefined || this.fullLookDue
    const searchOpts = {
      gas: {
        gasUnits: (h: number) => this.gasFor(h),
        gasPrice: quote.maxFeePerGas,
        weiToBase: (w: bigint) => this.toBase(w),
      },
      minProfit: limits.minProfit,
      ...(limits.maxIn !== undefined ? { maxIn: limits.maxIn } : {}),
      maxSized: this.opts.maxSized ?? 256,
      deferred,
      also: full ? [] : [...this.carried],
      // quarantined cycles are not sized (nor take a place among the best): deferred, they come back when their sit-out ends
      ...(this.quarantine.empty
        ? {}
        : { exclude: (id: number) => this.quarantine.blocked(this.modules.graph.cycleById(id), this.head) !== null }),
    }
    const sizing = this.modules.sizing
    const within = full ? undefined : changed
    let found = sizing
      ? await sizing.find(searchOpts, within)
      : findOpportunities(this.modules.graph, searchOpts, within)
    if (full) {
      this.fullLookDue = false
      this.lastFullLook = this.head
    }
    // fees first learned (the probe), then folded into the sizes
    await probeFees(this.feeLearning, found)
    found = withFees(this.feeLearning, found, limits)
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
    const plan = planBatch(this.modules.graph, found, {
      max: limits.maxTradesPerBlock ?? 1,
      minProfit: limits.minProfit,
      ...(limits.maxIn !== undefined ? { maxIn: limits.maxIn } : {}),
      fees: this.fees,
      canSequence: (cycle) => this.fees.allKnown(cycle),
      // cycles a planned trade makes pay (it moved their pools), unless sitting out
      moreThrough: (pools) => this.cyclesThrough(pools),
      gasCost: (hops) => this.toBase(this.gasFor(hops) * quote.maxFeePerGas),
    })
    for (const o of plan.sequenced) this.sequenced.add(o)
    const batch = { broken: false }
    for (const o of plan.trades) this.batchOf.set(o, batch)
    return { found, selected: plan.trades, quote }
  }

  /**
   * The gas a cycle of n hops is priced at before its simulation: the gas limit it will be sent
   * with (the last simulated estimate of that length, or `gasUnits`, plus the margin and the
   * pairs' slack), so a trade the search accepts is not refused after its simulation for gas.
   */
  private gasFor(hops: number): bigint {
    return gasLimitFor(this.gasSeen.get(hops) ?? this.gasUnits(hops), hops, this.marginPercent)
  }

  /** The cycles through `pools` not sitting out. */
  private *cyclesThrough(pools: readonly Address[]): Iterable<Cycle> {
    const graph = this.modules.graph
    for (const id of graph.cycleIdsThrough(pools)) {
      const cycle = graph.cycleById(id)
      if (this.quarantine.empty || this.quarantine.blocked(cycle, this.head) === null) yield cycle
    }
  }

  /**
   * Searches the cycles through `changed` (all when absent) and trades the block's plan: each
   * trade simulated and sent in order, the receipts awaited together.
   */
  async trade(changed?: Iterable<`0x${string}`>, seen = this.now()): Promise<Omit<StepResult, 'updates'>> {
    const { found, selected, quote } = await this.search(changed)
    const decisions = await Promise.all(selected.map((o) => this.decide(o, quote, seen)))
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
    if (!this.breaker.admits()) return skip('breaker-open')
    const cap = this.limits.gasPriceCap
    if (cap !== undefined && quote.maxFeePerGas > cap) return skip('gas-price-cap')
    const refused = this.modules.risk?.allow(o)
    if (refused) return skip('risk', refused)
    return null
  }

  /**
   * Takes one opportunity through the risk checks, the simulation against the pending block (sized
   * again first if the chain moved on since it was sized) and, if it still clears the minimum
   * after its simulated gas, the send; then the receipt. Trades pass the checks and the send one
   * at a time (in the order `decide` was called), so the next one is simulated after the last was
   * sent and nonces follow each other; receipts are awaited outside that, together. The work
   * queue's executors call this for each opportunity they claim.
   */
  async decide(o: Opportunity, quote: GasQuote | Promise<GasQuote>, seen = this.now()): Promise<Decision> {
    const priced = Promise.resolve(quote)
    // awaited under the lock; a rejection meanwhile is not unhandled
    priced.catch(() => {})
    const launched = await this.sendLock.runExclusive(async () => this.launch(o, await priced, seen))
    if ('kind' in launched) {
      // not sent: a later trade of its batch sized on reserves after it would meet other reserves
      const batch = this.batchOf.get(o)
      if (batch) batch.broken = true
      return launched
    }
    return this.settle(launched)
  }

  /** The checks, the simulation and the send of `o` (under the send lock). */
  private async launch(o: Opportunity, quote: GasQuote, seen: number): Promise<Decision | Launched> {
    const { graph, executor, logger } = this.modules
    const m = this.modules.metrics ?? null
    const limits = this.limits
    const stop = this.stopped(o, quote)
    if (stop) return stop
    if (this.sequenced.has(o) && this.batchOf.get(o)?.broken) {
      m?.opportunities.inc({ stage: 'skipped' })
      // its cycle is carried: searched again next block on the reserves the chain has then
      return { kind: 'skipped', opportunity: o, why: 'stale', detail: 'an earlier trade of its batch was not sent' }
    }
    const hops = o.cycle.pools.length
    let sim: Simulation
    // through a pool an unmined trade of ours moves: sized on what those leave and simulated after
    // them (a node's `pending` may or may not hold them: Cairn's is its head, Anvil's and geth's
    // hold the pool's transactions), else against the pending block
    const r =
      (this.inFlight.conflicts(o) ? await this.inFlight.proveAfter(o, () => this.limits) : null) ??
      (await this.prove(o))
    if ('kind' in r) return r
    ;({ o, sim } = r)
    m?.opportunities.inc({ stage: 'simulated' })
    if (!sim.ok) return this.simulationFailed(o, sim)
    this.quarantine.succeeded(o.cycle, this.head)
    this.gasSeen.set(hops, sim.gas)
    // priced at the gas limit: what is used can only be less
    const gas = gasLimitFor(sim.gas, hops, this.marginPercent)
    const netAfterGas = sim.profit - this.toBase(gas * quote.maxFeePerGas)
    if (netAfterGas < limits.minProfit) {
      m?.opportunities.inc({ stage: 'rejected' })
      return { kind: 'below-min-profit', opportunity: o, netAfterGas }
    }
    const late = this.stopped(o, quote)
    if (late) return late
    this.breaker.sending()
    m?.blockToTxSeconds.observe((this.now() - seen) / 1000)
    const nonces = this.modules.nonces ?? null
    const nonce = nonces ? await nonces.next() : undefined
    this.modules.risk?.sent(o)
    try {
      // the contract's minimum is the gas at the offered fee plus ours: a replacement offering more
      // per gas asks for more, so no send nets less than minProfit (it reverts instead)
      const minProfitAt = (maxFeePerGas: bigint) => this.toBase(gas * maxFeePerGas) + limits.minProfit
      const submission = await executor.submit(graph, o, minProfitAt(quote.maxFeePerGas), {
        gas,
        maxFeePerGas: quote.maxFeePerGas,
        maxPriorityFeePerGas: quote.maxPriorityFeePerGas,
        ...(sim.flash !== undefined ? { flash: sim.flash } : {}),
        ...(nonce !== undefined ? { nonce } : {}),
        minProfitAt,
      })
      this.inFlight.sent({ o, hash: submission.hash, data: submission.data })
      logger.info(
        {
          tx: submission.hash,
          cycle: o.cycle.key,
          amountIn: o.amountIn.toString(),
          expectedProfit: o.grossProfit.toString(),
          ...(nonce !== undefined ? { nonce } : {}),
        },
        'trade sent',
      )
      return { o, sim, submission, nonce }
    } catch (err) {
      return this.sendFailed(o, err)
    }
  }

  /**
   * Simulates `o` against the pending block; sized again on the reserves of now when the chain
   * moved on since it was sized, and again with a transfer fee the simulation revealed.
   */
  private async prove(o: Opportunity): Promise<Decision | { o: Opportunity; sim: Simulation }> {
    const { graph, executor, public: pub } = this.modules
    const [first, latest] = await Promise.all([
      executor.simulate(graph, o, 1n),
      // uncached (viem keeps a block number for its polling interval, 4 s by default): a head
      // that moved since `o` was sized must be seen, or `o` is simulated on reserves it was not sized on
      pub.getBlockNumber({ cacheTime: 0 }).catch(() => this.head),
    ])
    let sim = first
    // (head 0: nothing collected yet, the graph was filled another way: nothing to compare with)
    if (this.head > 0n && latest > this.head) {
      // the block moved on since `o` was sized: size it on the reserves it will meet
      const fresh = await this.refreshed(o)
      if (fresh === null) {
        this.modules.metrics?.opportunities.inc({ stage: 'skipped' })
        return { kind: 'skipped', opportunity: o, why: 'stale', detail: `no longer pays at block ${latest}` }
      }
      // its pools moved: what the simulation paid says nothing of a fee
      if (fresh !== o) return { o: fresh, sim: await executor.simulate(graph, fresh, 1n) }
    }
    // what the pools paid tells a token's transfer fee: learned, `o` is sized again with it (not for
    // a trade sized on a batch's view: the graph's reserves are not what it was sized on)
    const learned = !this.sequenced.has(o) && learnFee(this.feeLearning, o, sim)
    if (learned) {
      const again = resized(o, hopsOn(graph, o.cycle, null, this.fees), this.limits.maxIn)
      if (again === null || again.netProfit < this.limits.minProfit) {
        this.modules.metrics?.opportunities.inc({ stage: 'rejected' })
        return { kind: 'below-min-profit', opportunity: o, netAfterGas: again ? again.netProfit : -o.gasCost }
      }
      o = again
      sim = await executor.simulate(graph, o, 1n)
    }
    return { o, sim }
  }

  /**
   * `o` sized on its pools' reserves at the chain's head (read now): `o` itself when they are the
   * graph's, a new opportunity when they moved, null when the cycle no longer clears the minimum.
   */
  private async refreshed(o: Opportunity): Promise<Opportunity | null> {
    const { graph, public: pub } = this.modules
    const reads = await Promise.all(
      o.cycle.pools.map((address) => pub.readContract({ address, abi: pairAbi, functionName: 'getReserves' })),
    )
    const view: ReserveView = new Map()
    let moved = false
    o.cycle.pools.forEach((a, i) => {
      const [r0, r1] = reads[i]!
      const p = graph.pool(a)!
      if (r0 !== p.reserve0 || r1 !== p.reserve1) {
        moved = true
        this.missed.add(a)
      }
      view.set(a, [r0, r1])
    })
    if (!moved) return o
    const r = resized(o, hopsOn(graph, o.cycle, view, this.fees), this.limits.maxIn)
    return r && r.netProfit >= this.limits.minProfit ? r : null
  }

  /** A failed simulation: a revert in the path quarantines the cycle (and a token the evidence names), else the breaker counts it. */
  private simulationFailed(o: Opportunity, sim: Simulation & { ok: false }): Decision {
    const m = this.modules.metrics ?? null
    m?.opportunities.inc({ stage: 'rejected' })
    let quarantined = false
    if (isPathRevert(sim.revert)) {
      // the path cannot be traded now: its cycle sits out (the quarantine logs it), the breaker is not fed
      const blame = blamedToken(o.cycle, sim.evidence)
      const evidence = sim.evidence ? describeEvidence(sim.evidence) : sim.revert
      const why = blame ? `token ${blame} refused: ${evidence}` : evidence
      this.quarantine.failed(o.cycle, this.head, why, blame)
      quarantined = true
    } else {
      m?.tradeFailures.inc({ kind: 'fault' })
      this.modules.logger.warn({ cycle: o.cycle.key, reason: sim.reason, revert: sim.revert }, 'simulation failed')
      this.breaker.fault(`simulation failed: ${sim.reason.slice(0, 200)}`)
    }
    return { kind: 'simulation-failed', opportunity: o, simulation: sim, quarantined }
  }

  private async sendFailed(o: Opportunity, err: unknown): Promise<Decision> {
    const m = this.modules.metrics ?? null
    this.modules.risk?.settled(o, 0n)
    m?.tradeFailures.inc({ kind: 'fault' })
    // A trade stuck past its deadline still holds its nonce: every later trade of this account
    // would queue behind it, so the breaker opens now rather than after more failures.
    const stuck = isCairnError(err, ArbErrorCode.TRADE_STUCK)
    // A remote signer refusing under its policy will refuse the next trade too: no point in two more.
    const refused = signerRefusal(err)
    await this.modules.nonces?.resync()
    const error = err instanceof Error ? err.message : String(err)
    if (stuck) {
      this.modules.logger.error(
        { cycle: o.cycle.key, err: error, ...err.meta, hint: err.hint },
        'trade stuck: breaker open',
      )
      this.breaker.trip(`trade stuck: ${error}`)
    } else if (refused) {
      this.modules.logger.error(
        {
          cycle: o.cycle.key,
          err: refused.message,
          hint: "the remote signer's policy (--tx-allow-to, --tx-allow-create, --tx-max-value) refuses the executor's trades: fix the policy or the executor address, then POST /v1/breaker/reset",
        },
        'the remote signer refused the trade: breaker open',
      )
      this.breaker.trip(`the remote signer refused the trade: ${refused.message}`)
    } else {
      this.modules.logger.warn({ cycle: o.cycle.key, err: error }, 'sending the trade failed')
      this.breaker.fault(`sending the trade failed: ${error.slice(0, 200)}`)
    }
    return { kind: 'send-failed', opportunity: o, error }
  }

  /** Waits for a sent trade's receipt and accounts for it. */
  private async settle({ o, sim, submission, nonce }: Launched): Promise<Decision> {
    const m = this.modules.metrics ?? null
    const nonces = this.modules.nonces ?? null
    let execution: Execution
    try {
      execution = await this.modules.executor.settle(o, submission)
    } catch (err) {
      this.inFlight.landed(submission.hash)
      return this.sendLocked(o, err)
    }
    this.inFlight.landed(submission.hash)
    if (nonce !== undefined) nonces?.settled(nonce)
    this.modules.risk?.settled(o, execution.profit - this.toBase(execution.gasUsed * execution.effectiveGasPrice))
    if (m) {
      m.opportunities.inc({ stage: 'executed' })
      m.trades.inc({ status: execution.status })
      if (execution.profit > 0n) m.profit.inc({ token: o.cycle.tokens[0]! }, Number(execution.profit))
    }
    if (execution.status === 'reverted') {
      const lost = await this.judgeRevert(o, execution)
      return { kind: 'executed', opportunity: o, simulation: sim, execution, lostRace: lost }
    }
    this.breaker.succeeded()
    return { kind: 'executed', opportunity: o, simulation: sim, execution }
  }

  /**
   * A mined trade reverted: replayed (its block up to it) to read why. The contract's profit or
   * hop check refusing it is a lost race (the pools moved before it: not a fault, the breaker does
   * not count it); anything else, or a revert the node cannot replay, is a fault.
   */
  private async judgeRevert(o: Opportunity, execution: Execution): Promise<boolean> {
    const m = this.modules.metrics ?? null
    const why = await this.modules.executor.revertReason(execution.hash)
    const reason = why.evidence ? describeEvidence(why.evidence) : (why.revert ?? 'reason unknown (no replay)')
    const fields = { tx: execution.hash, cycle: o.cycle.key, block: Number(execution.blockNumber), reason }
    if (isLostRace(why.revert, why.evidence)) {
      m?.tradeFailures.inc({ kind: 'lost_race' })
      this.modules.logger.info(fields, 'trade lost a race: the pools moved before it (not a fault)')
      this.breaker.lostRace()
      return true
    }
    m?.tradeFailures.inc({ kind: 'fault' })
    this.modules.logger.warn(fields, 'trade reverted')
    this.breaker.fault(`trade ${execution.hash} reverted: ${reason}`)
    return false
  }

  /** A failure after the send (the receipt wait: a stuck trade), handled as a send failure. */
  private sendLocked(o: Opportunity, err: unknown): Promise<Decision> {
    return this.sendLock.runExclusive(() => this.sendFailed(o, err))
  }
}
