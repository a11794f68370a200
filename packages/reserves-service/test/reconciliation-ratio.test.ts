// The reserve ratio's arithmetic: exact (bigints, a common scale, truncation never rounding up),
// so "ratio ≥ 1" and "assets ≥ liabilities" are the same statement for every input.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareCurrency,
  formatDecimal,
  parseDecimal,
  RATIO_DECIMALS,
  rescale,
  reserveRatio,
} from '../src/features/reconciliation/ratio.ts'

const amount = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: (1n << 140n) - 1n }))
const positive = fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: (1n << 140n) - 1n }))
const ONE = 10n ** BigInt(RATIO_DECIMALS)
const ratioUnits = (r: string) => BigInt(r.replace('.', ''))

describe('reserve ratio', () => {
  it('is at least 1 exactly when the assets are at least the liabilities', () => {
    fc.assert(
      fc.property(amount, positive, (a, l) => {
        const r = reserveRatio(a, l) as string
        expect(ratioUnits(r) >= ONE).toBe(a >= l)
      }),
      { numRuns: 2000 },
    )
  })

  it('is assets/liabilities truncated to RATIO_DECIMALS places: r·L ≤ A·10^18 < (r+1)·L', () => {
    fc.assert(
      fc.property(amount, positive, (a, l) => {
        const r = reserveRatio(a, l) as string
        expect(r).toMatch(new RegExp(`^(0|[1-9][0-9]*)\\.[0-9]{${RATIO_DECIMALS}}$`))
        const u = ratioUnits(r)
        expect(u * l <= a * ONE).toBe(true)
        expect(a * ONE < (u + 1n) * l).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('a shortfall of one smallest unit is never rounded up to 1', () => {
    const l = 10n ** 30n + 7n
    expect(reserveRatio(l - 1n, l)).toBe('0.999999999999999999')
    expect(reserveRatio(l, l)).toBe('1.000000000000000000')
    expect(reserveRatio(3n, 2n)).toBe('1.500000000000000000')
    expect(reserveRatio(5n, 0n)).toBeNull()
    expect(reserveRatio(0n, 0n)).toBeNull()
  })

  it('compares at the finest scale, so assets with more decimals than the snapshot are not rounded', () => {
    // liabilities 1.00000000 BTC (8 decimals) against 0.999999999999999999 in an 18-decimal token
    const c = compareCurrency('BTC', { value: 100_000_000n, decimals: 8 }, [
      { value: 999_999_999_999_999_999n, decimals: 18 },
    ])
    expect(c.decimals).toBe(18)
    expect(c.status).toBe('shortfall')
    expect(c.surplus).toBe('-1')
    const ok = compareCurrency('BTC', { value: 100_000_000n, decimals: 8 }, [
      { value: 60_000_000n, decimals: 8 },
      { value: 4n, decimals: 1 }, // 0.4
    ])
    expect(ok).toMatchObject({ decimals: 8, assets: '100000000', status: 'ok', ratio: '1.000000000000000000' })
  })

  it('status and ratio agree for any mix of scales', () => {
    const scaled = fc.record({ value: amount, decimals: fc.integer({ min: 0, max: 38 }) })
    fc.assert(
      fc.property(scaled, fc.array(scaled, { maxLength: 5 }), (l, assets) => {
        const c = compareCurrency('X', l, assets)
        const sum = assets.reduce((s, a) => s + rescale(a, c.decimals), 0n)
        expect(BigInt(c.assets)).toBe(sum)
        expect(BigInt(c.liabilities)).toBe(rescale(l, c.decimals))
        expect(c.status === 'ok').toBe(sum >= BigInt(c.liabilities))
        if (c.ratio !== null) expect(ratioUnits(c.ratio) >= ONE).toBe(c.status === 'ok')
        else expect(BigInt(c.liabilities)).toBe(0n)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('decimal amounts', () => {
  it('parse and format back exactly', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 38 }), (v, d) => {
        const text = formatDecimal({ value: v, decimals: d })
        const back = parseDecimal(text)
        expect(back).not.toBeNull()
        expect(rescale(back!, d)).toBe(v)
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses what is not a plain non-negative decimal', () => {
    for (const bad of ['', '-1', '1e3', ' 1', '01', '1.', '.5', '1,5', `0.${'1'.repeat(39)}`])
      expect(parseDecimal(bad)).toBeNull()
    expect(parseDecimal('1250.50')).toEqual({ value: 125050n, decimals: 2 })
    expect(formatDecimal({ value: 125050n, decimals: 2 })).toBe('1250.5')
    expect(formatDecimal({ value: 5n, decimals: 3 })).toBe('0.005')
  })
})
