import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchDueTimes } from '../../bench/pacing.ts'

/** Transactions offered by time t (ms): every batch due at or before t, with its size. */
function offeredBy(streams: number[], batch: number, due: number[][], t: number): number {
  let sum = 0
  due.forEach((times, n) => {
    times.forEach((at, k) => {
      if (at <= t) sum += Math.min(batch, (streams[n] as number) - k * batch)
    })
  })
  return sum
}

describe('batchDueTimes (the BFT bench’s paced load)', () => {
  const load = fc.record({
    streams: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 8 }),
    batch: fc.integer({ min: 1, max: 200 }),
    rate: fc.integer({ min: 50, max: 5000 }),
  })

  it('offers the whole load at the rate from start to end, whatever the streams’ sizes', () => {
    fc.assert(
      fc.property(load, fc.double({ min: 0, max: 1, noNaN: true }), ({ streams, batch, rate }, frac) => {
        const total = streams.reduce((a, b) => a + b, 0)
        fc.pre(total > 0)
        const due = batchDueTimes(streams, batch, rate)
        // Every transaction has a batch, each batch once.
        expect(due.map((d) => d.length)).toEqual(streams.map((n) => Math.ceil(n / batch)))
        const span = (total * 1000) / rate
        const t = frac * span
        // At any time the offered count is the rate's, within one batch per stream either way
        // (the first pacing fell behind by ~30% of the load for unequal streams).
        const slack = streams.filter((n) => n > 0).length * batch
        const offered = offeredBy(streams, batch, due, t)
        expect(offered).toBeLessThanOrEqual((rate * t) / 1000 + slack)
        expect(offered).toBeGreaterThanOrEqual((rate * t) / 1000 - slack)
        // Every stream's last batch is due within the load's span and the streams' stagger (under
        // one batch interval of the whole load per stream).
        const stagger = (streams.length * batch * 1000) / rate
        for (const times of due) if (times.length > 0) expect(times.at(-1) as number).toBeLessThan(span + stagger)
      }),
    )
  })

  it('gives the 10-senders-over-4-nodes load the same span on every stream', () => {
    const due = batchDueTimes([3000, 3000, 2000, 2000], 100, 1000)
    const ends = due.map((d) => d.at(-1) as number)
    for (const end of ends) expect(end).toBeGreaterThan(9000)
    for (const end of ends) expect(end).toBeLessThan(10_000)
  })

  it('refuses a rate or batch it cannot pace', () => {
    expect(() => batchDueTimes([10], 0, 1000)).toThrow(RangeError)
    expect(() => batchDueTimes([10], 10, 0)).toThrow(RangeError)
  })
})
