// Runs reconciliations: queues one after each snapshot build (slot `build:<id>`) and, with an
// interval, one per interval of the database's clock for the newest built snapshot (slot
// `interval:<n>`); claims queued runs with a lease and runs them (reconcile.ts). The outcome, its
// audit entry and its outbox events (`reconciliation.completed`, `reconciliation.shortfall`,
// `reconciliation.failed`) are written in one transaction, by the attempt that holds the lease:
// two instances never both record a run, and a crashed instance's run is taken over after its lease.

import { WakeableSleep } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { appendAudit } from '../../kernel/audit.ts'
import { recordEvent } from '../../kernel/outbox.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import type { ReconciliationMetrics } from './metrics.ts'
import { type ReconciliationResult, reconcile } from './reconcile.ts'
import { AssetChainClient } from './rpc.ts'
import type { ClaimedRun, ReconciliationRuns } from './runs.ts'
import type { AssetSources } from './sources.ts'

export interface ReconciliationOptions {
  /** Whether this instance runs reconciliations (every instance may still queue them). */
  run: boolean
  /** Queue a run of the newest built snapshot once per this many ms (0: only after builds and on request). */
  intervalMs: number
  /** A worker's hold on a run; a dead worker's run is taken over after it. Longer than a run's reads. */
  leaseMs: number
  /** How often an idle worker looks for queued runs and the interval's turn. */
  pollMs: number
  /** Longest wait for one JSON-RPC answer, ms. */
  rpcTimeoutMs: number
  /** Attempts of a run whose workers died before it is recorded as failed. */
  maxAttempts: number
}

export const DEFAULT_RECONCILIATION: ReconciliationOptions = {
  run: true,
  intervalMs: 0,
  leaseMs: 120_000,
  pollMs: 1_000,
  rpcTimeoutMs: 10_000,
  maxAttempts: 3,
}

export interface ReconciliationWorkerModules {
  sql: Sql
  runs: ReconciliationRuns
  sources: AssetSources
  store: SnapshotStore
  logger: Logger
  metrics: ReconciliationMetrics
  /** Milliseconds since the epoch (run durations). */
  clockMs: () => number
  /** A run finished and its events are in the outbox (wakes the webhook worker). */
  onFinished?: (runId: string, state: 'ok' | 'shortfall' | 'failed') => void
}

/** What {@link ReconciliationWorker.runOnce} did. */
export type RunOutcome =
  | { id: string; state: 'ok' | 'shortfall'; result: ReconciliationResult; recorded: boolean }
  | { id: string; state: 'failed'; error: string; recorded: boolean }

/**
 * A ratio as a float for the gauge, below 1 exactly when it is a shortfall: 0.999999999999999999
 * would round to 1 and an alert on `< 1` would not fire.
 */
export function gaugeValue(ratio: string, status: 'ok' | 'shortfall'): number {
  const n = Number(ratio)
  return status === 'shortfall' && n >= 1 ? 1 - Number.EPSILON / 2 : n
}

export class ReconciliationWorker {
  private stopped = false
  private loop: Promise<void> | null = null
  private readonly idle = new WakeableSleep()
  private lastSlot: string | null = null

  constructor(
    readonly opts: ReconciliationOptions & { owner: string },
    private readonly modules: ReconciliationWorkerModules,
  ) {}

  start(): void {
    this.loop ??= this.run()
  }

  wake(): void {
    this.idle.wake()
  }

  /** Stops claiming; a run in progress finishes first (its reads are bounded by the RPC timeout). */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    await this.loop
  }

  /** Queues the run that follows a build of `snapshotId` (once per snapshot, whoever asks). */
  async afterBuild(snapshotId: string): Promise<string | null> {
    const id = await this.modules.runs.enqueue(snapshotId, 'build', `build:${snapshotId}`)
    this.wake()
    return id
  }

  /**
   * Queues this interval's run if its turn has come (one per interval of the database's clock,
   * across instances); the id queued, or null.
   */
  async scheduleInterval(): Promise<string | null> {
    if (this.opts.intervalMs <= 0) return null
    const r = await this.modules.sql.query('SELECT floor(extract(epoch FROM now()) * 1000 / $1::bigint)::bigint AS n', [
      this.opts.intervalMs,
    ])
    const slot = String(r[0]?.n)
    if (slot === this.lastSlot) return null
    const id = await this.modules.runs.enqueueInterval(this.opts.intervalMs)
    this.lastSlot = slot
    return id
  }

  /** Claims one queued run and runs it; null when none was claimable. */
  async runOnce(): Promise<RunOutcome | null> {
    const { runs, metrics } = this.modules
    const claimed = await runs.claim(this.opts.owner, this.opts.leaseMs)
    if (!claimed) return null
    const started = this.modules.clockMs()
    const out = await this.execute(claimed)
    metrics.runSeconds.observe(Math.max(0, (this.modules.clockMs() - started) / 1000))
    return out
  }

  private async run(): Promise<void> {
    const log = this.modules.logger
    while (!this.stopped) {
      let did = false
      try {
        const queued = await this.scheduleInterval()
        if (queued) log.info({ run: queued }, 'reconciliation queued (interval)')
        did = (await this.runOnce()) !== null
      } catch (err) {
        log.warn({ err }, 'reconciliation: cannot schedule or claim runs')
      }
      if (this.stopped) break
      if (!did) await this.sleep()
    }
  }

  private sleep(): Promise<void> {
    return this.idle.sleep(this.opts.pollMs)
  }

  private async execute(run: ClaimedRun): Promise<RunOutcome> {
    const { store, sources, metrics, logger } = this.modules
    const log = logger.child({ run: run.id, snapshot: run.snapshotId, attempt: run.attempt })
    let result: ReconciliationResult | null = null
    let error = ''
    try {
      const snap = await store.find(run.snapshotId)
      if (run.attempt > this.opts.maxAttempts)
        error = `attempts exhausted: ${run.attempt - 1} workers stopped midway (crashed or lost the database)`
      else if (snap?.status !== 'built' || !snap.root)
        error = `snapshot ${run.snapshotId} is ${snap ? snap.status : 'gone'}, not built`
      else
        result = await reconcile(
          {
            snapshotId: snap.id,
            currencies: snap.currencies,
            totals: snap.root.balances,
            sources: await sources.loadEnabled(),
          },
          {
            reader: (url) =>
              new AssetChainClient(url, { timeoutMs: this.opts.rpcTimeoutMs }, (method) =>
                metrics.rpcErrors.inc({ method }),
              ),
            onRpcError: (method) => metrics.rpcErrors.inc({ method }),
          },
        )
    } catch (err) {
      error = err instanceof CairnError || err instanceof Error ? err.message : String(err)
    }
    if (!result && !error) error = 'no result'
    const outcome = result
      ? { state: result.status, result }
      : ({ state: 'failed', error } as { state: 'failed'; error: string })
    const recorded = await this.modules.sql.transaction(async (tx) => {
      if (!(await this.modules.runs.finish(run, this.opts.owner, outcome, tx))) return false
      const base = { reconciliationId: run.id, snapshotId: run.snapshotId, trigger: run.trigger }
      if (outcome.state === 'failed') {
        await appendAudit(tx, {
          actor: 'service',
          role: 'admin',
          action: 'reconciliation.failed',
          details: { ...base, error: outcome.error },
        })
        await recordEvent(tx, 'reconciliation.failed', { ...base, error: outcome.error })
        return true
      }
      const r = outcome.result
      const summary = r.currencies.map((c) => ({
        symbol: c.symbol,
        decimals: c.decimals,
        liabilities: c.liabilities,
        assets: c.assets,
        ratio: c.ratio,
        status: c.status,
      }))
      await appendAudit(tx, {
        actor: 'service',
        role: 'admin',
        action: 'reconciliation.completed',
        details: { ...base, status: r.status, currencies: summary, chains: r.chains },
      })
      await recordEvent(tx, 'reconciliation.completed', {
        ...base,
        status: r.status,
        currencies: summary,
        chains: r.chains,
      })
      if (r.status === 'shortfall')
        await recordEvent(tx, 'reconciliation.shortfall', {
          ...base,
          currencies: summary.filter((c) => c.status === 'shortfall'),
        })
      return true
    })
    if (!recorded) {
      log.warn('reconciliation finished after its lease was taken over: the other attempt records it')
      return { id: run.id, ...outcome, recorded } as RunOutcome
    }
    metrics.runs.inc({ outcome: outcome.state })
    if (outcome.state === 'failed') log.error({ error: outcome.error }, 'reconciliation failed')
    else {
      for (const c of outcome.result.currencies)
        if (c.ratio !== null) metrics.ratio.set({ currency: c.symbol }, gaugeValue(c.ratio, c.status))
      const short = outcome.result.currencies.filter((c) => c.status === 'shortfall').map((c) => c.symbol)
      if (outcome.state === 'shortfall')
        log.error({ currencies: short }, 'reconciliation: SHORTFALL — assets below liabilities')
      else log.info('reconciliation ok: assets cover liabilities in every currency')
    }
    this.modules.onFinished?.(run.id, outcome.state)
    return { id: run.id, ...outcome, recorded } as RunOutcome
  }
}
