// The service's pipeline around the engine: each tick reads the configuration if it changed, polls
// the chain (collector), stores the pools and reserves it changed, searches (strategy), records
// every opportunity and queues the selected ones; executors take them from the queue, claim each
// id once, run the engine's checks, simulation and send, and record the decision and the trade.
// RPC failures feed the guard's breaker; partitions are made ahead and old ones dropped daily.
import type { Logger } from '@cairn/utils'
import type { ArbEngine, Decision } from '../engine.ts'
import type { TokenGraph } from '../graph/token-graph.ts'
import type { ArbMetrics } from '../metrics.ts'
import type { PoolTracker } from '../pools/tracker.ts'
import { opportunityId, type QueuedOpportunity } from '../queue/message.ts'
import { type Claims, claimed, type OpportunityQueue } from '../queue/queue.ts'
import type { RiskGuard } from '../risk/guard.ts'
import type { ConfigStore } from '../store/config-store.ts'
import { applyRetention, ensurePartitions } from '../store/partitions.ts'
import type { ArbStore, OpportunityRecord } from '../store/store.ts'
import type { Opportunity } from '../strategy/search.ts'
import type { ArbEvent } from './events.ts'
import { QUARANTINED, type QuarantineFeed } from './quarantine-feed.ts'

export interface ArbRunnerOptions {
  /** What this process does: everything (default), only search and queue, or only execute from the queue. */
  role: 'all' | 'strategy' | 'executor'
  /** This executor's name in claims and trades. */
  executorId: string
  /**
   * Start even when another executor holds the signing account's lease, and wait as a standby:
   * it trades only once that executor's heartbeat is stale and the lease is taken over (so two
   * never trade at once). False: refuse to start (the default).
   */
  standby?: boolean
  /** Opportunities from blocks older than this many below the head are not executed. Default 2. */
  maxAgeBlocks?: number
  /** Days of reserve history and opportunities kept. Default 30. */
  retentionDays?: number
  /** Keep the reserve history (one row per changed pool and block). Default true. */
  reserveHistory?: boolean
}

export interface ArbRunnerModules {
  engine: ArbEngine
  tracker: PoolTracker
  graph: TokenGraph
  store: ArbStore
  config: ConfigStore
  guard: RiskGuard
  queue: OpportunityQueue
  claims: Claims
  logger: Logger
  metrics: ArbMetrics | null
  /** Wall clock, ms (records' times, the loss limit's day). */
  now?: () => number
  /** Told of every decision and trade (the WebSocket stream). */
  events?: (e: ArbEvent) => void
  /** Role `strategy`: the executors' path reverts and trades, read from the store before each search. */
  quarantineFeed?: QuarantineFeed | null
}

const STOP_REASONS = ['kill-switch', 'kill-file', 'rpc-breaker', 'daily-loss'] as const

export class ArbRunner {
  private configStamp = ''
  private stopConsume: (() => Promise<void>) | null = null
  private lastMaintenance = -1
  private started = false
  /** Decisions taken by this process's executors (tests and /v1/status). */
  readonly counts = { ticks: 0, found: 0, queued: 0, executed: 0, duplicates: 0, rpcFailures: 0 }

  constructor(
    private readonly opts: ArbRunnerOptions,
    private readonly modules: ArbRunnerModules,
  ) {}

  private now(): number {
    return this.modules.now ? this.modules.now() : Date.now()
  }

  /** Reads the configuration and today's result, makes partitions, syncs the pools, starts the executor. */
  async start(): Promise<void> {
    const { store, guard, tracker, logger } = this.modules
    await this.refreshConfig()
    guard.seedRealizedToday(await store.realizedSince(new Date(guard.dayStart())))
    await this.maintain()
    const first = await tracker.start()
    await this.savePools(first.changed, first.number)
    logger.info({ pools: this.modules.graph.poolCount, head: first.number.toString() }, 'pools synced')
    if (this.opts.role !== 'strategy')
      this.stopConsume = await this.modules.queue.consume(
        claimed(
          this.modules.claims,
          this.opts.executorId,
          (q) => this.execute(q),
          (q) => this.duplicate(q),
        ),
      )
    this.started = true
  }

  async stop(): Promise<void> {
    await this.stopConsume?.()
    this.stopConsume = null
  }

  /** One poll: configuration, chain, pools, search, queue. Never throws (failures feed the breaker). */
  async tick(): Promise<void> {
    const { engine, guard, logger, metrics } = this.modules
    this.counts.ticks++
    try {
      await this.refreshConfig()
      await this.maintain()
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'configuration or maintenance failed')
    }
    let collected: Awaited<ReturnType<ArbEngine['collect']>>
    try {
      collected = await engine.collect()
      guard.rpcSucceeded()
    } catch (err) {
      guard.rpcFailed()
      this.counts.rpcFailures++
      metrics?.rpcFailures.inc()
      logger.warn({ err: (err as Error).message }, 'polling the chain failed')
      this.exportStop()
      return
    }
    this.exportStop()
    const head = this.modules.tracker.head?.number ?? 0n
    // storage after the trade decision: the queue gets the opportunities first
    try {
      if (this.opts.role !== 'executor' && (collected.changed.size > 0 || engine.carrying > 0 || engine.wantsFullLook))
        await this.strategy(collected.changed, head)
    } finally {
      for (const u of collected.updates) await this.savePools(u.changed, u.number)
    }
  }

  /** Searches the changed pools, queues the selected opportunities, then records every one found. */
  private async strategy(changed: Set<`0x${string}`>, head: bigint): Promise<void> {
    const { engine, guard, logger, metrics } = this.modules
    let found: Opportunity[]
    let selected: Opportunity[]
    try {
      await this.modules.quarantineFeed?.pull()
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "reading the executors' decisions failed (quarantine not updated)")
    }
    try {
      ;({ found, selected } = await engine.search(changed))
    } catch (err) {
      guard.rpcFailed()
      metrics?.rpcFailures.inc()
      logger.warn({ err: (err as Error).message }, 'search failed (fees)')
      return
    }
    const seenAt = this.now()
    this.counts.found += found.length
    const chosen = new Set(selected)
    for (const o of selected) {
      await this.modules.store.recordOpportunity(this.record(o, head, seenAt, 'queued', null))
      await this.modules.queue.publish({ id: opportunityId(head, o), block: head, seenAt, opportunity: o })
      this.counts.queued++
    }
    for (const o of found)
      if (!chosen.has(o)) await this.modules.store.recordOpportunity(this.record(o, head, seenAt, 'found', null))
  }

  private exportStop(): void {
    const m = this.modules.metrics
    if (!m) return
    const why = this.modules.guard.stopReason()
    for (const r of STOP_REASONS) m.stopped.set({ reason: r }, why === r ? 1 : 0)
  }

  private record(
    o: Opportunity,
    block: bigint,
    at: number,
    decision: string,
    detail: string | null,
  ): OpportunityRecord {
    return {
      id: opportunityId(block, o),
      at: new Date(at),
      block,
      cycleKey: o.cycle.key,
      baseToken: o.cycle.tokens[0]!,
      tokens: o.cycle.tokens,
      pools: o.cycle.pools,
      amountIn: o.amountIn,
      grossProfit: o.grossProfit,
      gasCost: o.gasCost,
      netProfit: o.netProfit,
      decision,
      detail,
    }
  }

  private duplicate(q: QueuedOpportunity): void {
    this.counts.duplicates++
    this.modules.metrics?.duplicates.inc()
    this.modules.logger.info({ id: q.id }, 'opportunity already claimed: not executed again')
  }

  /** An executor's work on one claimed opportunity: true when a transaction was sent. */
  private async execute(q: QueuedOpportunity): Promise<boolean> {
    const { engine, store, logger } = this.modules
    const o = q.opportunity
    const head = this.modules.tracker.head?.number ?? q.block
    const save = (decision: string, detail: string | null) =>
      store.recordOpportunity(this.record(o, q.block, q.seenAt, decision, detail))
    if (head - q.block > BigInt(this.opts.maxAgeBlocks ?? 2)) {
      await save('stale', `head ${head}`)
      return false
    }
    if (o.cycle.pools.some((p) => !this.modules.graph.pool(p))) {
      await save('stale', 'unknown pool')
      return false
    }
    // the quote is awaited in the engine's send order: trades queued together keep their order
    // the latency metric measures from when the strategy saw the block (wall clock across processes)
    const d: Decision = await engine.decide(o, engine.quote(), performance.now() - (this.now() - q.seenAt))
    await save(d.kind, detailOf(d))
    // a failed send may have reached the node: its claim stands
    if (d.kind === 'send-failed') return true
    if (d.kind !== 'executed') return false
    this.counts.executed++
    const x = d.execution
    const gasCostBase = x.gasUsed * x.effectiveGasPrice
    await store.recordTrade({
      txHash: x.hash,
      opportunityId: q.id,
      at: new Date(this.now()),
      block: x.blockNumber,
      status: x.status,
      token: o.cycle.tokens[0]!,
      amountIn: o.amountIn,
      profit: x.profit,
      gasUsed: x.gasUsed,
      gasPrice: x.effectiveGasPrice,
      gasCostBase,
      realized: x.profit - gasCostBase,
      executor: this.opts.executorId,
    })
    this.modules.events?.({
      type: 'trade',
      id: q.id,
      tx: x.hash,
      status: x.status,
      token: o.cycle.tokens[0]!,
      profit: x.profit,
      realized: x.profit - gasCostBase,
    })
    logger.info({ id: q.id, tx: x.hash, status: x.status, profit: x.profit.toString() }, 'trade recorded')
    return true
  }

  private async refreshConfig(): Promise<void> {
    const stamp = await this.modules.config.stamp()
    if (stamp === this.configStamp) return
    this.modules.guard.update((await this.modules.config.load()).config)
    if (this.configStamp !== '') this.modules.logger.info({ stamp }, 'configuration reloaded')
    this.configStamp = stamp
  }

  /** Partitions for today and the next two days, and retention, once per UTC day. */
  private async maintain(): Promise<void> {
    const day = Math.floor(this.now() / 86_400_000)
    if (day === this.lastMaintenance) return
    const sql = this.modules.store.sql
    await ensurePartitions(sql, this.now(), 2)
    const dropped = await applyRetention(sql, this.now(), this.opts.retentionDays ?? 30)
    if (dropped.length) this.modules.logger.info({ dropped }, 'retention: old partitions dropped')
    this.lastMaintenance = day
  }

  private async savePools(changed: Iterable<`0x${string}`>, block: bigint): Promise<void> {
    const pools = [...changed].map((a) => this.modules.graph.pool(a)).filter((p) => p !== undefined)
    if (pools.length === 0) return
    const at = new Date(this.now())
    await this.modules.store.upsertPools(pools, block, at)
    if (this.opts.reserveHistory ?? true)
      await this.modules.store.recordReserves(
        pools.map((p) => ({ pool: p.address, block, reserve0: p.reserve0, reserve1: p.reserve1, at })),
      )
  }

  get running(): boolean {
    return this.started
  }
}

function detailOf(d: Decision): string | null {
  switch (d.kind) {
    case 'skipped':
      return d.detail ? `${d.why}: ${d.detail}` : d.why
    case 'simulation-failed':
      return d.quarantined ? `${QUARANTINED}${d.simulation.revert}` : (d.simulation.revert ?? d.simulation.reason)
    case 'below-min-profit':
      return `net ${d.netAfterGas}`
    case 'send-failed':
      return d.error
    case 'executed':
      return d.execution.hash
  }
}
