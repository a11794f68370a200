// The live risk state around the engine: the configuration as last read, the kill switch (the
// configuration's flag or a file's presence), per-token exposure of trades in flight, the day's
// realised result against the daily loss limit, and a breaker on consecutive RPC failures. The
// engine asks it before each trade (`allow`, `killed`) and tells it what happened (`settled`).
import { existsSync } from 'node:fs'
import type { RiskLimits } from '../engine.ts'
import type { Opportunity } from '../strategy/search.ts'
import { DEFAULT_RISK_CONFIG, type RiskConfig, toRiskLimits } from './config.ts'

export interface RiskGuardOptions {
  /** A file whose presence stops trading (an operator's `touch`, a secret manager's mount). */
  killFile?: string | null
}

export interface RiskGuardModules {
  /** Wall clock, ms (the UTC day of the loss limit). */
  now?: () => number
  /** Whether a file exists (node:fs existsSync; tests inject one). */
  exists?: (path: string) => boolean
}

export type RiskRefusal = 'exposure' | 'daily-loss'

const DAY_MS = 86_400_000

export class RiskGuard {
  private cfg: RiskConfig = DEFAULT_RISK_CONFIG
  private readonly inflight = new Map<string, bigint>()
  private day = -1
  private realizedToday = 0n
  private rpcFailures = 0

  constructor(
    private readonly opts: RiskGuardOptions,
    private readonly modules: RiskGuardModules = {},
  ) {}

  get config(): RiskConfig {
    return this.cfg
  }

  /** Replaces the configuration (after a write, or another instance's write read back). */
  update(config: RiskConfig): void {
    this.cfg = config
  }

  /** The engine's limits, read on every decision (changes apply at the next trade). */
  limits(): RiskLimits {
    return toRiskLimits(this.cfg)
  }

  private now(): number {
    return this.modules.now ? this.modules.now() : Date.now()
  }

  private rollDay(): void {
    const d = Math.floor(this.now() / DAY_MS)
    if (d !== this.day) {
      this.day = d
      this.realizedToday = 0n
    }
  }

  /** Seeds the day's realised result (read from the trades table at start-up). */
  seedRealizedToday(realized: bigint): void {
    this.rollDay()
    this.realizedToday = realized
  }

  /** Start of the current UTC day (ms). */
  dayStart(): number {
    return Math.floor(this.now() / DAY_MS) * DAY_MS
  }

  get killFilePresent(): boolean {
    const f = this.opts.killFile
    if (!f) return false
    return (this.modules.exists ?? existsSync)(f)
  }

  get rpcBreakerOpen(): boolean {
    return this.rpcFailures >= this.cfg.maxRpcFailures
  }

  get dailyLossReached(): boolean {
    this.rollDay()
    const limit = this.cfg.dailyLossLimit
    return limit !== null && -this.realizedToday >= BigInt(limit)
  }

  /** Why no new trade may start, or null. Checked before simulating and again before signing. */
  stopReason(): 'kill-switch' | 'kill-file' | 'rpc-breaker' | 'daily-loss' | null {
    if (this.cfg.killSwitch) return 'kill-switch'
    if (this.killFilePresent) return 'kill-file'
    if (this.rpcBreakerOpen) return 'rpc-breaker'
    if (this.dailyLossReached) return 'daily-loss'
    return null
  }

  killed = (): boolean => this.stopReason() !== null

  /** Whether `o` fits the per-token exposure (in-flight inputs) and the daily loss limit. */
  allow(o: Opportunity): RiskRefusal | null {
    if (this.dailyLossReached) return 'daily-loss'
    const token = o.cycle.tokens[0]!
    const cap = this.cfg.maxExposurePerToken[token] ?? this.cfg.maxExposurePerToken[token.toLowerCase()]
    if (cap !== undefined && (this.inflight.get(token) ?? 0n) + o.amountIn > BigInt(cap)) return 'exposure'
    return null
  }

  /** A trade was sent: its input counts against the token's exposure until it settles. */
  sent(o: Opportunity): void {
    const token = o.cycle.tokens[0]!
    this.inflight.set(token, (this.inflight.get(token) ?? 0n) + o.amountIn)
  }

  /** A sent trade settled (mined, or given up): `realized` is its profit less its gas, in base units. */
  settled(o: Opportunity, realized: bigint): void {
    const token = o.cycle.tokens[0]!
    const left = (this.inflight.get(token) ?? 0n) - o.amountIn
    if (left > 0n) this.inflight.set(token, left)
    else this.inflight.delete(token)
    this.rollDay()
    this.realizedToday += realized
  }

  exposure(token: string): bigint {
    return this.inflight.get(token) ?? 0n
  }

  get realized(): bigint {
    this.rollDay()
    return this.realizedToday
  }

  rpcFailed(): void {
    this.rpcFailures++
  }

  rpcSucceeded(): void {
    this.rpcFailures = 0
  }
}
