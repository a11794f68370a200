import { describe, expect, it } from 'vitest'
import { TimeSlice } from '../src/time-slice.ts'

describe('TimeSlice', () => {
  it('is due once its milliseconds have passed since it started or last paused', async () => {
    let clock = 100
    const slice = new TimeSlice(2, () => clock)
    expect(slice.due).toBe(false)
    clock = 101.9
    expect(slice.due).toBe(false)
    clock = 102
    expect(slice.due).toBe(true)
    await slice.pause()
    expect(slice.due).toBe(false) // a new slice from the pause
    clock = 104
    expect(slice.due).toBe(true)
  })

  it('check gives timers and I/O a turn only when the slice is used up', async () => {
    let clock = 0
    const slice = new TimeSlice(2, () => clock)
    let ran = 0
    setImmediate(() => ran++)
    await slice.check()
    expect(ran).toBe(0) // not due: the work went on without a turn
    clock = 5
    await slice.check()
    expect(ran).toBe(1) // due: the callback queued before ran
    setImmediate(() => ran++)
    await slice.check()
    expect(ran).toBe(1) // the pause started a new slice
  })
})
