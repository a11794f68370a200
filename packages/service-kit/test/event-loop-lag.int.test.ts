// The lag source behind load shedding (moved from the RPC's edge tests): a loop kept busy shows.
import { describe, expect, it } from 'vitest'
import { EventLoopLag } from '../src/index.ts'

describe('EventLoopLag', () => {
  it('EventLoopLag sees a loop kept busy in 100 ms slices', async () => {
    const lag = new EventLoopLag({ resolutionMs: 10, windowMs: 1000 })
    try {
      await new Promise<void>((resolve) => {
        let n = 0
        const burn = () => {
          const t = Date.now()
          while (Date.now() - t < 100) {}
          if (++n < 6) setImmediate(burn)
          else setTimeout(resolve, 15)
        }
        burn()
      })
      expect(lag.lagMs()).toBeGreaterThan(60)
    } finally {
      lag.close()
    }
  })
})
