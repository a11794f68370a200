// Transfer fees learned from evidence (unit tier): a token burning `bps` of every transfer (the
// FeeToken fixture's integer rule) pays a 2-hop cycle less than the fee-blind model; from that
// amount alone the model learns exactly `bps`, and the fee-aware model never pays more than the
// token does (so a flash loan sized on it is always repaid); a cycle paid at the model confirms
// its tokens take none; two unknown tokens on the way learn nothing.
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address, Cycle } from '../src/graph/token-graph.ts'
import { type Hop, simulatePath } from '../src/math/path.ts'
import { getAmountOut, UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { TransferFees } from '../src/strategy/transfer-fees.ts'

const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
const cycle = (...tokens: number[]): Cycle => ({
  key: tokens.join('>'),
  pools: tokens.slice(1).map((_, i) => tok(100 + i)),
  tokens: tokens.map(tok),
})
const hop = (rIn: bigint, rOut: bigint): Hop => ({ reserveIn: rIn, reserveOut: rOut, fee: UNISWAP_V2_FEE })
/** What the chain pays: the token's integer fee on the transfer into the second pair. */
const real = (hops: Hop[], x: bigint, bps: bigint) => {
  const a = getAmountOut(x, hops[0]!.reserveIn, hops[0]!.reserveOut)
  const arrived = a - (a * bps) / 10_000n
  return getAmountOut(arrived, hops[1]!.reserveIn, hops[1]!.reserveOut)
}

describe('TransferFees', () => {
  it('learns a fee-on-transfer token exactly from what the last pair paid, and its model never pays more than the token', () => {
    const reserve = fc.bigInt({ min: 10n ** 20n, max: 10n ** 25n })
    fc.assert(
      fc.property(
        reserve,
        reserve,
        reserve,
        reserve,
        fc.integer({ min: 1, max: 2000 }),
        fc.bigInt({ min: 1n, max: 1000n }),
        (a, b, c, d, bps, share) => {
          const hops = [hop(a, b), hop(c, d)]
          const x = (a * share) / 10_000n + 10n ** 15n
          const paid = real(hops, x, BigInt(bps))
          const fees = new TransferFees({ logger: silentLogger })
          const cy = cycle(0, 1, 0)
          const learned = fees.observe(cy, hops, x, 1, paid)
          // an amount too small for the fee to show may teach nothing; any learned fee is exact or
          // errs high (the model then pays no more than the token does)
          if (learned === null) return
          expect(learned).toBe(tok(1))
          expect(fees.bps(tok(1))).toBeGreaterThanOrEqual(bps)
          if (paid > 10n ** 12n) expect(fees.bps(tok(1))).toBe(bps)
          const modelled = simulatePath(fees.apply(cy, hops), x).amountOut
          expect(modelled).toBeLessThanOrEqual(paid)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a cycle paid at the model confirms its tokens take no fee; two unknown tokens on the way learn nothing', () => {
    const fees = new TransferFees({ logger: silentLogger })
    const hops = [hop(10n ** 21n, 2n * 10n ** 21n), hop(10n ** 21n, 10n ** 21n)]
    const x = 10n ** 19n
    expect(fees.observe(cycle(0, 1, 0), hops, x, 1, simulatePath(hops, x).amountOut)).toBeNull()
    expect(fees.isKnown(tok(1))).toBe(true)
    expect(fees.bps(tok(1))).toBe(0)
    const three = [...hops, hop(10n ** 21n, 10n ** 21n)]
    expect(fees.observe(cycle(0, 2, 3, 0), three, x, 2, simulatePath(three, x).amountOut / 2n)).toBeNull()
    expect(fees.isKnown(tok(2)) || fees.isKnown(tok(3))).toBe(false)
    expect(fees.list()).toEqual([])
  })
})
