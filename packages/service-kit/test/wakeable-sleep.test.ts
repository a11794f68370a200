// The polling loops' idle wait: a timeout, cut short by a wake-up during it, and skipped by one
// that came while the loop was busy (never lost, never counted twice).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WakeableSleep } from '../src/wakeable-sleep.ts'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const settled = async (p: Promise<void>) => {
  let done = false
  void p.then(() => {
    done = true
  })
  await vi.advanceTimersByTimeAsync(0)
  return () => done
}

describe('WakeableSleep', () => {
  it('resolves after its time when nobody wakes it', async () => {
    const s = new WakeableSleep()
    const done = await settled(s.sleep(500))
    await vi.advanceTimersByTimeAsync(499)
    expect(done()).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(done()).toBe(true)
  })

  it('a wake-up during the sleep ends it at once', async () => {
    const s = new WakeableSleep()
    const done = await settled(s.sleep(10_000))
    s.wake()
    await vi.advanceTimersByTimeAsync(0)
    expect(done()).toBe(true)
    // …and is used up: the next sleep waits its time.
    const next = await settled(s.sleep(100))
    expect(next()).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(next()).toBe(true)
  })

  it('a wake-up while no sleep runs makes the next sleep return at once, once', async () => {
    const s = new WakeableSleep()
    s.wake()
    s.wake()
    const first = await settled(s.sleep(10_000))
    expect(first()).toBe(true)
    const second = await settled(s.sleep(100))
    expect(second()).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(second()).toBe(true)
  })
})
