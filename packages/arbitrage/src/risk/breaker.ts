// The engine's circuit breaker, with the states resilience libraries give one (opossum, cockatiel):
// closed → open after `threshold` faults in a row → half-open once `cooldownMs` has passed → one
// trial trade → closed when it lands (or loses a race: the path works) or open again on a fault.
//
// Not service-kit's resilientCall (cockatiel underneath): that one wraps a call and judges it by
// what it throws, while a trade's outcome comes later (its receipt, after the next trades were
// sent), a lost race must neither count nor reset, and some failures open the breaker at once (a
// stuck trade, the signer refusing). Every change of state is logged and counted
// (`cairn_arb_breaker_transitions_total{to}`).
import type { Logger } from '@cairn/utils'
import type { ArbMetrics } from '../metrics.ts'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface TradeBreakerOptions {
  /** Faults in a row that open it (read at each fault: the live `maxConsecutiveFailures`). */
  threshold: () => number
  /** How long it stays open before one trial trade may go (half-open). Default 60,000 ms. */
  cooldownMs?: number
}

export interface TradeBreakerModules {
  logger: Logger
  metrics?: ArbMetrics | null
  /** Milliseconds (default Date.now). */
  now?: () => number
}

export class TradeBreaker {
  private current: BreakerState = 'closed'
  private faults = 0
  private openedAt = 0
  /** Half-open: the trial trade was sent and its outcome is awaited. */
  private trialOut = false
  private readonly cooldownMs: number

  constructor(
    private readonly opts: TradeBreakerOptions,
    private readonly modules: TradeBreakerModules,
  ) {
    this.cooldownMs = opts.cooldownMs ?? 60_000
  }

  /** The state now (an open breaker whose cooldown passed turns half-open here). */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.cooldownMs)
      this.enter('half-open', 'cooldown over')
    return this.current
  }

  /** Faults in a row so far. */
  get consecutiveFaults(): number {
    return this.faults
  }

  /** Whether a trade may be sent now: closed, or half-open with no trial out yet. */
  admits(): boolean {
    const s = this.state
    return s === 'closed' || (s === 'half-open' && !this.trialOut)
  }

  /** A trade is being sent: while half-open it is the trial (no other goes until its outcome). */
  sending(): void {
    if (this.state === 'half-open') this.trialOut = true
  }

  /** A trade landed: the count starts again; a trial closes the breaker. */
  succeeded(): void {
    if (this.current === 'half-open') this.enter('closed', 'the trial trade landed')
    else if (this.current === 'closed') this.faults = 0
  }

  /**
   * A trade lost a race (another transaction moved its pools first: the contract's profit check
   * refused it). Not a fault and not a success of ours: the count stays; a trial closes the breaker
   * (the path, the signer and the node all worked).
   */
  lostRace(): void {
    if (this.current === 'half-open' && this.trialOut) this.enter('closed', 'the trial trade reached the chain')
  }

  /** A fault (a revert that was not a lost race, a failed send, an RPC failure): counted; `threshold` in a row open it. */
  fault(reason: string): void {
    if (this.current === 'open') return
    this.faults++
    if (this.current === 'half-open') this.open(`the trial failed: ${reason}`)
    else if (this.faults >= Math.max(1, this.opts.threshold()))
      this.open(`${this.faults} faults in a row, the last: ${reason}`)
  }

  /** Opens at once (a stuck trade, the signer refusing: the next trade would fail the same way). */
  trip(reason: string): void {
    this.faults = Math.max(this.faults, this.opts.threshold())
    this.open(reason)
  }

  /** The operator's reset: closed now. */
  reset(): void {
    this.faults = 0
    if (this.current !== 'closed') this.enter('closed', 'reset by the operator')
  }

  private open(reason: string): void {
    this.openedAt = this.now()
    this.enter('open', reason)
  }

  private enter(to: BreakerState, reason: string): void {
    const from = this.current
    this.current = to
    this.trialOut = false
    if (to === 'closed') this.faults = 0
    const m = this.modules.metrics ?? null
    m?.breakerTransitions.inc({ to: to === 'half-open' ? 'half_open' : to })
    m?.breakerOpen.set(to === 'closed' ? 0 : 1)
    const fields = { from, to, reason, consecutiveFaults: this.faults }
    if (to === 'open')
      this.modules.logger.error(
        {
          ...fields,
          cooldownMs: this.cooldownMs,
          hint: 'one trial trade goes after the cooldown; POST /v1/breaker/reset closes it now',
        },
        'breaker open',
      )
    else this.modules.logger.warn(fields, to === 'closed' ? 'breaker closed' : 'breaker half-open')
  }

  private now(): number {
    return this.modules.now ? this.modules.now() : Date.now()
  }
}
