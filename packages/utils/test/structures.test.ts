import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LruCache, Mutex, TypedEmitter } from '../src/index.ts'

describe('LruCache', () => {
  it('never holds more than max entries and keeps the most recently used', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 })), (max, keys) => {
        const c = new LruCache<number, number>(max)
        for (const k of keys) c.set(k, k)
        expect(c.size).toBeLessThanOrEqual(max)
        const last = keys.at(-1)
        if (last !== undefined) expect(c.get(last)).toBe(last)
      }),
    )
  })
})

describe('Mutex', () => {
  it('runs sections one at a time even when one fails', async () => {
    const m = new Mutex()
    const order: string[] = []
    let inside = 0
    const section = (name: string, fail = false) =>
      m.run(async () => {
        inside++
        expect(inside).toBe(1)
        await new Promise((r) => setTimeout(r, 2))
        order.push(name)
        inside--
        if (fail) throw new Error('boom')
      })
    const results = await Promise.allSettled([section('a'), section('b', true), section('c')])
    expect(order).toEqual(['a', 'b', 'c'])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })
})

describe('TypedEmitter', () => {
  it('delivers to listeners until they unsubscribe', () => {
    const e = new TypedEmitter<{ tick: number }>()
    const seen: number[] = []
    const off = e.on('tick', (n) => seen.push(n))
    e.emit('tick', 1)
    off()
    e.emit('tick', 2)
    expect(seen).toEqual([1])
    expect(e.listenerCount('tick')).toBe(0)
  })
})
