// Risk configuration and the live guard (unit): every key validated, the kill switch from the
// configuration and from a file, per-token exposure, the daily loss limit rolling at UTC midnight,
// the RPC breaker.
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ArbErrorCode } from '../src/errors.ts'
import { DEFAULT_RISK_CONFIG, parseRiskValue, RISK_KEYS, toRiskLimits } from '../src/risk/config.ts'
import { RiskGuard } from '../src/risk/guard.ts'
import type { Opportunity } from '../src/strategy/search.ts'

const BASE = `0x${'1'.repeat(40)}` as const
const opp = (amountIn: bigint): Opportunity =>
  ({ cycle: { key: 'k', pools: [], tokens: [BASE, BASE] }, amountIn }) as unknown as Opportunity

describe('risk configuration', () => {
  it('accepts every default and refuses unknown keys and bad values', () => {
    for (const k of RISK_KEYS) expect(parseRiskValue(k, DEFAULT_RISK_CONFIG[k])).toEqual(DEFAULT_RISK_CONFIG[k])
    const bad: [string, unknown][] = [
      ['nope', 1],
      ['minProfit', -1],
      ['minProfit', '1.5'],
      ['minProfit', '01'],
      ['maxIn', 'lots'],
      ['maxExposurePerToken', { notAnAddress: '1' }],
      ['hopSlippageBps', 10_001],
      ['maxTradesPerBlock', 0],
      ['killSwitch', 'yes'],
    ]
    for (const [k, v] of bad)
      expect(() => parseRiskValue(k, v), k).toThrow(expect.objectContaining({ code: ArbErrorCode.CONFIG }))
  })

  it('round-trips any uint256 amount exactly into the engine limits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (v) => {
        const c = { ...DEFAULT_RISK_CONFIG, minProfit: parseRiskValue<'minProfit'>('minProfit', v.toString()) }
        expect(toRiskLimits(c).minProfit).toBe(v)
      }),
    )
  })
})

describe('RiskGuard', () => {
  it('stops on the kill switch, the kill file and the RPC breaker', () => {
    let file = false
    const g = new RiskGuard({ killFile: '/run/arb/kill' }, { exists: () => file })
    expect(g.stopReason()).toBeNull()
    g.update({ ...DEFAULT_RISK_CONFIG, killSwitch: true })
    expect(g.stopReason()).toBe('kill-switch')
    g.update({ ...DEFAULT_RISK_CONFIG, maxRpcFailures: 2 })
    file = true
    expect(g.killed()).toBe(true)
    file = false
    g.rpcFailed()
    expect(g.killed()).toBe(false)
    g.rpcFailed()
    expect(g.stopReason()).toBe('rpc-breaker')
    g.rpcSucceeded()
    expect(g.killed()).toBe(false)
  })

  it('caps the input in flight per token', () => {
    const g = new RiskGuard({})
    g.update({ ...DEFAULT_RISK_CONFIG, maxExposurePerToken: { [BASE]: '100' } })
    expect(g.allow(opp(100n))).toBeNull()
    expect(g.allow(opp(101n))).toBe('exposure')
    g.sent(opp(60n))
    expect(g.allow(opp(50n))).toBe('exposure')
    expect(g.allow(opp(40n))).toBeNull()
    g.settled(opp(60n), 5n)
    expect(g.exposure(BASE)).toBe(0n)
    expect(g.allow(opp(100n))).toBeNull()
  })

  it('stops for the rest of the UTC day once the realised loss reaches the limit', () => {
    let now = Date.UTC(2026, 10, 23, 10)
    const g = new RiskGuard({}, { now: () => now })
    g.update({ ...DEFAULT_RISK_CONFIG, dailyLossLimit: '100' })
    g.seedRealizedToday(-40n)
    g.settled(opp(0n), 30n)
    g.settled(opp(0n), -89n)
    expect(g.realized).toBe(-99n)
    expect(g.killed()).toBe(false)
    g.settled(opp(0n), -1n)
    expect(g.stopReason()).toBe('daily-loss')
    expect(g.allow(opp(1n))).toBe('daily-loss')
    now = Date.UTC(2026, 10, 24, 0, 0, 1)
    expect(g.killed()).toBe(false)
    expect(g.realized).toBe(0n)
  })
})

describe('config errors', () => {
  it('are caller faults', () => {
    try {
      parseRiskValue('maxIn', 5)
    } catch (e) {
      expect(isCairnError(e, ArbErrorCode.CONFIG) && e.fault).toBe('caller')
    }
  })
})
