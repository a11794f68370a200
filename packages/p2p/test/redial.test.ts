import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Redialer } from '../src/redial.ts'

/** Timers run by hand: `due()` lists the pending delays, `fire()` runs the next one. */
function fakeTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>()
  let next = 0
  return {
    setTimeout: (fn: () => void, ms: number) => {
      const id = next++
      pending.set(id, { fn, ms })
      return id
    },
    clearTimeout: (id: unknown) => void pending.delete(id as number),
    due: () => [...pending.values()].map((t) => t.ms),
    fire: async () => {
      const [id, t] = [...pending.entries()][0] ?? []
      if (id === undefined || !t) throw new Error('no timer pending')
      pending.delete(id)
      t.fn()
      // let the dial it starts settle
      for (let i = 0; i < 5; i++) await Promise.resolve()
    },
  }
}

/** A network of one peer whose dials fail while `up` is false. */
function setup(opts = { minMs: 1000, maxMs: 60_000 }) {
  const timers = fakeTimers()
  const state = { up: false, connected: false, dials: 0 }
  const redialer = new Redialer(opts, {
    dial: async () => {
      state.dials++
      if (!state.up) throw new Error('ECONNREFUSED')
      state.connected = true
    },
    connected: () => state.connected,
    logger: silentLogger,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  })
  return { timers, state, redialer }
}

describe('kept peers are dialled again with backoff', () => {
  it('a failed first dial is retried after 1, 2, 4 … s up to the cap, and connects once the peer is up', async () => {
    const { timers, state, redialer } = setup({ minMs: 1000, maxMs: 8000 })
    expect(await redialer.keep('p', '/ip4/127.0.0.1/tcp/1/p2p/p')).toBe(false)
    expect(state.dials).toBe(1)
    const delays: number[] = []
    for (let i = 0; i < 5; i++) {
      delays.push(...timers.due())
      await timers.fire()
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000])
    expect(state.dials).toBe(6)
    state.up = true
    await timers.fire()
    expect(state.connected).toBe(true)
    expect(timers.due()).toEqual([])
  })

  it('a connection that ends before the status exchange counts as a failure; one after it is redialled soon', async () => {
    const { timers, state, redialer } = setup()
    state.up = true
    expect(await redialer.keep('p', '/a')).toBe(true)
    // The peer hangs up at once (it banned this node), three times: the delay grows.
    const delays: number[] = []
    for (let i = 0; i < 3; i++) {
      state.connected = false
      redialer.disconnected('p')
      delays.push(...timers.due())
      await timers.fire()
      expect(state.connected).toBe(true)
    }
    expect(delays).toEqual([1000, 2000, 4000])
    // Now it passes status, then restarts: redialled after the shortest delay, failures forgotten.
    redialer.established('p')
    state.connected = false
    redialer.disconnected('p')
    expect(timers.due()).toEqual([1000])
  })

  it('forget and stop cancel the pending dial; a peer not kept is never dialled', async () => {
    const { timers, state, redialer } = setup()
    await redialer.keep('p', '/a')
    expect(timers.due()).toEqual([1000])
    redialer.forget('p')
    expect(timers.due()).toEqual([])
    redialer.disconnected('p')
    expect(timers.due()).toEqual([])
    await redialer.keep('p', '/a')
    redialer.stop()
    expect(timers.due()).toEqual([])
    expect(await redialer.keep('q', '/b')).toBe(false)
    expect(state.dials).toBe(2)
  })

  it('a peer kept with giveUpAfter (remembered from the last run) is forgotten after that many failures in a row', async () => {
    const { timers, state, redialer } = setup()
    expect(await redialer.keep('p', '/a', { giveUpAfter: 3 })).toBe(false)
    await timers.fire()
    await timers.fire()
    expect(state.dials).toBe(3)
    expect(timers.due()).toEqual([])
    expect(redialer.isKept('p')).toBe(false)
    // A bootnode is tried for as long as the node runs.
    await redialer.keep('b', '/b')
    for (let i = 0; i < 20; i++) await timers.fire()
    expect(redialer.isKept('b')).toBe(true)
    expect(timers.due()).toEqual([60_000])
  })

  it('the delay never exceeds the cap and never shrinks while failures go on (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 20 }), async (minMs, n) => {
        const maxMs = minMs * 16
        const { timers, redialer } = setup({ minMs, maxMs })
        await redialer.keep('p', '/a')
        let last = 0
        for (let i = 0; i < n; i++) {
          const [ms] = timers.due()
          expect(ms).toBeDefined()
          expect(ms).toBeGreaterThanOrEqual(last)
          expect(ms).toBeLessThanOrEqual(maxMs)
          last = ms as number
          await timers.fire()
        }
      }),
      { numRuns: 50 },
    )
  })
})
