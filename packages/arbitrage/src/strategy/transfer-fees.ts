// Tokens that take a fee on transfer, learned from evidence: a simulation (or a trade) whose hop
// paid less than the fee-blind model says, with one token on the way whose fee was not known yet,
// gives that token's fee (the least basis points whose model output is at or below what was paid).
// A cycle simulated at (or above) the model confirms its tokens take no fee. The sizing then folds
// a token's fee into the pool it reaches: a pair that receives x·(1 − f) of every x sent acts as one
// whose swap fee is γ·(1 − f) — so the closed form, the float look and the exact simulation all
// stay as they are, on adjusted hops.
import type { Logger } from '@cairn/utils'
import type { Address, Cycle } from '../graph/token-graph.ts'
import { type Hop, simulatePath } from '../math/path.ts'

/** Transfer fees never learned above this (a token taking half of every transfer is not traded). */
const MAX_FEE_BPS = 5_000

export class TransferFees {
  /** Token → fee in basis points, for tokens whose fee is known (0 included). */
  private readonly known = new Map<Address, number>()

  constructor(private readonly modules: { logger: Logger }) {}

  /** The token's fee in basis points (0 while not known). */
  bps(token: Address): number {
    return this.known.get(token) ?? 0
  }

  /** Whether the token's fee (0 or not) is known. */
  isKnown(token: Address): boolean {
    return this.known.has(token)
  }

  /** Whether any token on the cycle takes a known fee (so its fee-blind sizing is wrong). */
  charges(cycle: Cycle): boolean {
    for (let i = 1; i < cycle.pools.length; i++) if ((this.known.get(cycle.tokens[i]!) ?? 0) > 0) return true
    return false
  }

  /** Whether every token past the base has a known fee. */
  allKnown(cycle: Cycle): boolean {
    for (let i = 1; i < cycle.pools.length; i++) if (!this.known.has(cycle.tokens[i]!)) return false
    return true
  }

  /** Sets a token's fee (a test, or an operator who knows it). */
  set(token: Address, bps: number): void {
    this.known.set(token, bps)
  }

  /** Every known fee above 0 (the status page, the log). */
  list(): { token: Address; bps: number }[] {
    return [...this.known].filter(([, b]) => b > 0).map(([token, bps]) => ({ token, bps }))
  }

  /** `hops` (the cycle's, fee-blind) with each hop's input token's fee folded into its pool fee. */
  apply(cycle: Cycle, hops: readonly Hop[]): Hop[] {
    return hops.map((h, i) => (i === 0 ? h : withTransferFee(h, this.known.get(cycle.tokens[i]!) ?? 0)))
  }

  /**
   * Evidence: `amountIn` through `hops` (fee-blind, the reserves the trade was sized on) paid
   * `paid` at hop `hop` (its output, or the cycle's when `hop` is the last). Returns the token whose
   * fee was learned, or null (nothing new: the model held, or more than one unknown token).
   */
  observe(cycle: Cycle, hops: readonly Hop[], amountIn: bigint, hop: number, paid: bigint): Address | null {
    const upto = hops.slice(0, hop + 1)
    const modelled = (c: Cycle, extra?: { token: Address; bps: number }) => {
      const adjusted = upto.map((h, i) => {
        if (i === 0) return h
        const t = c.tokens[i]!
        return withTransferFee(h, extra && t === extra.token ? extra.bps : (this.known.get(t) ?? 0))
      })
      return simulatePath(adjusted, amountIn).amountOut
    }
    const unknown = [...new Set(cycle.tokens.slice(1, hop + 1))].filter(
      (t) => t !== cycle.tokens[0] && !this.known.has(t),
    )
    if (paid >= modelled(cycle)) {
      // the model (unknown fees taken as 0) held: those tokens take no fee
      for (const t of unknown) this.known.set(t, 0)
      return null
    }
    if (unknown.length !== 1) return null
    const token = unknown[0]!
    // the least fee whose model pays no more than was paid (the model is monotone in the fee)
    let lo = 1
    let hi = MAX_FEE_BPS
    if (modelled(cycle, { token, bps: hi }) > paid) return null
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (modelled(cycle, { token, bps: mid }) <= paid) hi = mid
      else lo = mid + 1
    }
    this.known.set(token, lo)
    this.modules.logger.info(
      { tokenAddress: token, feeBps: lo, cycle: cycle.key },
      'transfer fee learned: the pair received less than was sent',
    )
    return token
  }
}

/** A hop whose input arrives less `bps` basis points: its fee num scaled by (10000 − bps) / 10000. */
export function withTransferFee(h: Hop, bps: number): Hop {
  if (bps <= 0) return h
  return {
    reserveIn: h.reserveIn,
    reserveOut: h.reserveOut,
    fee: { num: h.fee.num * BigInt(10_000 - bps), den: h.fee.den * 10_000n },
  }
}
