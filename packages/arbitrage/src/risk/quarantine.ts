// Cycles (and tokens) whose trades the chain refuses: kept out of the search's selection for a
// number of blocks that doubles with each repeat, so a pool the executor cannot trade — a
// fee-on-transfer token whose fee eats the margin, a token whose transfers out of a pair revert
// (a honeypot), a pair with odd rules — neither takes every block's trade slot nor, through
// consecutive failed simulations, opens the breaker and stops all trading. A token is blamed only
// on evidence that points at it (its transfer reverted: ArbExecutor's `HopFailed` with the pair's
// `UniswapV2: TRANSFER_FAILED` names the hop, so the pair's output token; `TransferFailed` names the
// token), never for sharing a cycle with one that failed. Logs name tokens and pools.
import type { Logger } from '@cairn/utils'
import { LRUCache } from 'lru-cache'
import type { Address } from '../graph/token-graph.ts'
import type { ArbMetrics } from '../metrics.ts'

/** What a quarantine needs of a cycle: its key and its tokens (the base token first and last). */
export interface QuarantineCycle {
  key: string
  tokens: readonly Address[]
}

export interface QuarantineOptions {
  /** Blocks a cycle sits out after its first failure; doubles with each further one. Default 2. */
  firstBlocks?: number
  /** The longest sit-out, in blocks. Default 1,024 (about 3.4 hours at 12 s blocks). */
  maxBlocks?: number
  /** Cycles and tokens remembered at most (least recently failed dropped first). Default 10,000. */
  maxEntries?: number
}

interface Entry {
  /** Failures in a row (resets when a simulation through it succeeds). */
  strikes: number
  /** The first block it may be tried again at. */
  until: bigint
  why: string
}

/** One quarantined cycle or token, as the API and logs show it. */
export interface Quarantined {
  kind: 'cycle' | 'token'
  key: string
  until: bigint
  strikes: number
  why: string
}

export class Quarantine {
  private readonly cycles: LRUCache<string, Entry>
  private readonly tokens: LRUCache<string, Entry>
  private readonly firstBlocks: bigint
  private readonly maxBlocks: bigint

  constructor(
    opts: QuarantineOptions,
    private readonly modules: { logger: Logger; metrics?: ArbMetrics | null },
  ) {
    const max = opts.maxEntries ?? 10_000
    this.cycles = new LRUCache({ max })
    this.tokens = new LRUCache({ max })
    this.firstBlocks = BigInt(opts.firstBlocks ?? 2)
    this.maxBlocks = BigInt(opts.maxBlocks ?? 1024)
  }

  /** Nothing has failed (or everything that had was cleared): no cycle can be blocked. */
  get empty(): boolean {
    return this.cycles.size === 0 && this.tokens.size === 0
  }

  /** Why `cycle` may not be traded at `block` (its own or a token's quarantine), or null. */
  blocked(cycle: QuarantineCycle, block: bigint): string | null {
    const c = this.cycles.peek(cycle.key)
    if (c && block < c.until) return `cycle quarantined until block ${c.until}: ${c.why}`
    if (this.tokens.size === 0) return null
    // no allocation: this runs for every candidate of a search while anything is quarantined
    const base = cycle.tokens[0]
    for (const t of cycle.tokens) {
      if (t === base) continue
      const e = this.tokens.peek(t)
      if (e && e.strikes > 0 && block < e.until) return `token ${t} quarantined until block ${e.until}: ${e.why}`
    }
    return null
  }

  /**
   * A simulation of `cycle` at `block` reverted inside its path (`why`: the revert). `blame`: the
   * token the revert points at (its transfer reverted), which sits out with every cycle through
   * it; null when the evidence names no token (the market moved, too little profit, a pair's K).
   */
  failed(cycle: QuarantineCycle, block: bigint, why: string, blame: Address | null = null): void {
    const c = this.cycles.get(cycle.key) ?? { strikes: 0, until: 0n, why }
    c.strikes++
    c.why = why
    c.until = block + this.sitOut(c.strikes)
    this.cycles.set(cycle.key, c)
    this.modules.logger.warn(
      { cycle: cycle.key, pools: cycle.key.split('>'), why, strikes: c.strikes, until: c.until.toString() },
      'cycle quarantined: its simulation reverted in the path',
    )
    this.modules.metrics?.quarantines.inc({ kind: 'cycle' })
    if (blame !== null && blame !== cycle.tokens[0] && cycle.tokens.includes(blame)) {
      const e = this.tokens.get(blame) ?? { strikes: 0, until: 0n, why }
      // already sitting out for this: the same evidence again does not lengthen it
      if (!(block < e.until)) {
        e.strikes++
        e.why = why
        e.until = block + this.sitOut(e.strikes)
        this.tokens.set(blame, e)
        // not `token`: the logger redacts that key (it means a bearer token there)
        this.modules.logger.warn(
          { tokenAddress: blame, cycle: cycle.key, why, strikes: e.strikes, until: e.until.toString() },
          'token quarantined: its transfer reverted',
        )
        this.modules.metrics?.quarantines.inc({ kind: 'token' })
      }
    }
    this.export(block)
  }

  /** A simulation of `cycle` went through: it and its tokens are in good standing again. */
  succeeded(cycle: QuarantineCycle, block: bigint): void {
    const had = this.cycles.delete(cycle.key)
    let tokens = false
    for (const t of cycle.tokens) tokens = this.tokens.delete(t) || tokens
    if (had || tokens) this.export(block)
  }

  /** What is quarantined at `block`. */
  list(block: bigint): Quarantined[] {
    const out: Quarantined[] = []
    for (const [key, e] of this.cycles.entries())
      if (block < e.until) out.push({ kind: 'cycle', key, until: e.until, strikes: e.strikes, why: e.why })
    for (const [key, e] of this.tokens.entries())
      if (e.strikes > 0 && block < e.until)
        out.push({ kind: 'token', key, until: e.until, strikes: e.strikes, why: e.why })
    return out
  }

  /** Refreshes the gauges (they count entries still sitting out at `block`). */
  export(block: bigint): void {
    const m = this.modules.metrics
    if (!m) return
    const now = this.list(block)
    m.quarantined.set({ kind: 'cycle' }, now.filter((q) => q.kind === 'cycle').length)
    m.quarantined.set({ kind: 'token' }, now.filter((q) => q.kind === 'token').length)
  }

  private sitOut(strikes: number): bigint {
    const blocks = this.firstBlocks << BigInt(Math.min(strikes - 1, 62))
    return blocks < this.maxBlocks ? blocks : this.maxBlocks
  }
}

/**
 * Reverts that say the path cannot be traded now (quarantine the cycle), as opposed to the
 * executor's own refusals (`NotOwner`, `BadPath`, `UnexpectedCallback`: a misconfigured contract
 * or key) and failures with no revert at all (the RPC): those still count toward the breaker.
 */
export function isPathRevert(revert: string | undefined): revert is string {
  return revert !== undefined && !EXECUTOR_REFUSALS.has(revert)
}

const EXECUTOR_REFUSALS = new Set(['NotOwner', 'BadPath', 'UnexpectedCallback'])
