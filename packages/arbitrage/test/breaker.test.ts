// The engine's breaker (risk/breaker.ts): closed → open after `threshold` faults in a row → half-open
// after the cooldown → one trial → closed, or open again; lost races neither count nor reset; every
// change logged and counted; and what a lost race is (risk/lost-race.ts).
import { type Logger, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createArbMetrics } from '../src/metrics.ts'
import { TradeBreaker } from '../src/risk/breaker.ts'
import { isLostRace } from '../src/risk/lost-race.ts'

function setup(threshold = 3) {
  let now = 0
  const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = []
  const logger = {
    ...silentLogger,
    error: (fields: Record<string, unknown>, msg: string) => logs.push({ level: 'error', msg, fields }),
    warn: (fields: Record<string, unknown>, msg: string) => logs.push({ level: 'warn', msg, fields }),
  } as unknown as Logger
  const registry = new Registry()
  const metrics = createArbMetrics(registry)
  const breaker = new TradeBreaker(
    { threshold: () => threshold, cooldownMs: 30_000 },
    { logger, metrics, now: () => now },
  )
  const transitions = async () =>
    Object.fromEntries((await metrics.breakerTransitions.get()).values.map((v) => [v.labels.to, v.value]))
  return { breaker, logs, registry, transitions, advance: (ms: number) => (now += ms) }
}

describe('TradeBreaker', () => {
  it('exports its transitions at 0 before any', async () => {
    const { registry } = setup()
    const text = await registry.getSingleMetricAsString('cairn_arb_breaker_transitions_total')
    for (const to of ['open', 'half_open', 'closed'])
      expect(text).toContain(`cairn_arb_breaker_transitions_total{to="${to}"} 0`)
    const failures = await registry.getSingleMetricAsString('cairn_arb_trade_failures_total')
    for (const kind of ['fault', 'lost_race']) expect(failures).toContain(`{kind="${kind}"} 0`)
  })

  it('opens after threshold faults in a row (logged with the last reason), not when a success comes between', async () => {
    const { breaker, logs, transitions } = setup()
    breaker.fault('a')
    breaker.fault('b')
    breaker.succeeded()
    breaker.fault('c')
    breaker.fault('d')
    expect(breaker.state).toBe('closed')
    expect(breaker.admits()).toBe(true)
    breaker.fault('e')
    expect(breaker.state).toBe('open')
    expect(breaker.admits()).toBe(false)
    expect(logs).toMatchObject([
      { level: 'error', msg: 'breaker open', fields: { to: 'open', reason: expect.stringContaining('e') } },
    ])
    expect(await transitions()).toEqual({ open: 1, half_open: 0, closed: 0 })
  })

  it('lost races neither count nor reset the count', () => {
    const { breaker } = setup()
    breaker.fault('a')
    breaker.fault('b')
    for (let i = 0; i < 10; i++) breaker.lostRace()
    expect(breaker.state).toBe('closed')
    expect(breaker.consecutiveFaults).toBe(2)
    breaker.fault('c')
    expect(breaker.state).toBe('open')
  })

  it('turns half-open after the cooldown, lets one trial go, and closes when it lands', async () => {
    const { breaker, logs, transitions, advance } = setup()
    for (const r of ['a', 'b', 'c']) breaker.fault(r)
    advance(29_999)
    expect(breaker.admits()).toBe(false)
    advance(1)
    expect(breaker.state).toBe('half-open')
    expect(breaker.admits()).toBe(true)
    breaker.sending()
    // the trial is out: no second trade until its outcome
    expect(breaker.admits()).toBe(false)
    breaker.succeeded()
    expect(breaker.state).toBe('closed')
    expect(breaker.admits()).toBe(true)
    expect(logs.map((l) => l.msg)).toEqual(['breaker open', 'breaker half-open', 'breaker closed'])
    expect(await transitions()).toEqual({ open: 1, half_open: 1, closed: 1 })
  })

  it('opens again when the trial fails, for another cooldown; a trial that loses a race closes it', async () => {
    const { breaker, advance, transitions } = setup()
    for (const r of ['a', 'b', 'c']) breaker.fault(r)
    advance(30_000)
    expect(breaker.admits()).toBe(true)
    breaker.sending()
    breaker.fault('the trial reverted')
    expect(breaker.state).toBe('open')
    advance(10_000)
    expect(breaker.admits()).toBe(false)
    advance(20_000)
    expect(breaker.admits()).toBe(true)
    breaker.sending()
    breaker.lostRace()
    expect(breaker.state).toBe('closed')
    expect(await transitions()).toEqual({ open: 2, half_open: 2, closed: 1 })
  })

  it('trips open at once, and the operator reset closes it (logged)', () => {
    const { breaker, logs } = setup(5)
    breaker.trip('trade stuck')
    expect(breaker.state).toBe('open')
    breaker.reset()
    expect(breaker.state).toBe('closed')
    expect(logs.at(-1)).toMatchObject({ msg: 'breaker closed', fields: { reason: 'reset by the operator' } })
  })
})

describe('isLostRace', () => {
  it("is the contract's profit or hop bound, or a pair refusing for its reserves", () => {
    expect(
      isLostRace('InsufficientProfit', { kind: 'insufficient-profit', before: 1n, after: 1n, minProfit: 2n }),
    ).toBe(true)
    expect(isLostRace('HopOutputTooLow', { kind: 'hop-output-too-low', hop: 2, amountOut: 1n, minOut: 2n })).toBe(true)
    expect(isLostRace('HopFailed', { kind: 'hop-failed', hop: 1, pair: '0x01', reason: 'UniswapV2: K' })).toBe(true)
    expect(isLostRace('InsufficientProfit', undefined)).toBe(true)
  })

  it('is not a token refusing, the executor refusing its caller, or a revert not replayed', () => {
    expect(
      isLostRace('HopFailed', { kind: 'hop-failed', hop: 1, pair: '0x01', reason: 'UniswapV2: TRANSFER_FAILED' }),
    ).toBe(false)
    expect(isLostRace('TransferFailed', { kind: 'transfer-failed', token: '0x01', to: '0x02' })).toBe(false)
    expect(isLostRace('NotOwner', undefined)).toBe(false)
    expect(isLostRace(undefined, undefined)).toBe(false)
  })
})
