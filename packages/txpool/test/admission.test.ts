// The pool's admission on its own: held senders, the drainer's check, the wait's bound.
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { Admission } from '../src/admission.ts'

function setup(holdAt: number | undefined, maxWaitMs = 10_000) {
  const state = { pending: 0, draining: true }
  const admission = new Admission({ holdAt, maxWaitMs }, { pending: () => state.pending, logger: silentLogger })
  admission.setDrainer({ draining: () => state.draining })
  return { state, admission }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('pool admission', () => {
  it('holds senders past the limit until a new head makes room, in arrival order', async () => {
    const { state, admission } = setup(2)
    state.pending = 2
    const order: number[] = []
    const runs = [1, 2, 3].map((n) =>
      admission.run(async () => {
        order.push(n)
        state.pending++
      }),
    )
    await tick()
    expect(order).toEqual([])
    // A block took the pool down to 0: the first goes on; while it is being added it counts
    // against the limit with the pool's one slot, so the others wait for the next wake.
    state.pending = 0
    admission.release()
    await tick()
    expect(order).toEqual([1])
    admission.release()
    await tick()
    expect(order).toEqual([1, 2])
    state.pending = 0
    admission.release()
    await Promise.all(runs)
    expect(order).toEqual([1, 2, 3])
  })

  it('counts submissions in flight against the limit', async () => {
    const { state, admission } = setup(2)
    const finish: (() => void)[] = []
    const slow = () => admission.run(() => new Promise<void>((r) => finish.push(r)))
    const [a, b] = [slow(), slow()]
    await tick()
    expect(admission.inFlight).toBe(2)
    let third = false
    const held = admission.run(async () => {
      third = true
    })
    await tick()
    expect(third).toBe(false)
    for (const f of finish) f()
    await Promise.all([a, b])
    admission.release()
    await held
    expect(third).toBe(true)
    expect(state.pending).toBe(0)
  })

  it('lets everything through at once without a limit, without a drainer, or when nothing drains', async () => {
    for (const [holdAt, draining, drainer] of [
      [undefined, true, true],
      [1, false, true],
      [1, true, false],
    ] as const) {
      const { state, admission } = setup(holdAt)
      state.pending = 100
      state.draining = draining
      if (!drainer) admission.setDrainer(null)
      let ran = false
      await admission.run(async () => {
        ran = true
      })
      expect(ran).toBe(true)
    }
  })

  it("refuses with the drainer's error, and waits at most maxWaitMs", async () => {
    const { state, admission } = setup(1, 30)
    admission.setDrainer({
      draining: () => true,
      check: () => {
        if (state.draining) throw new Error('cannot seal')
      },
    })
    await expect(admission.run(async () => 'x')).rejects.toThrow('cannot seal')
    state.draining = false
    state.pending = 5
    const started = performance.now()
    expect(await admission.run(async () => 'through')).toBe('through')
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
  })
})
