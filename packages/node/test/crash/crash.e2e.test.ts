import { describe, expect, it } from 'vitest'
import { runCrashTest } from './crash-run.ts'

describe('crash safety (short run; `npm run test:crash` does 20 kills)', () => {
  it('survives 3 kill -9s under load with no violation', { timeout: 120_000 }, async () => {
    const lines: string[] = []
    const result = await runCrashTest({ kills: 3, log: (l) => lines.push(l) })
    expect(result.violations, lines.join('\n')).toEqual([])
    expect(result.killsSurvived).toBe(3)
    expect(result.receiptsSeen).toBeGreaterThan(0)
  })

  it('with --block-time 1, every acknowledged transaction survives 3 kill -9s (mined or pooled)', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = []
    const result = await runCrashTest({ kills: 3, blockTime: 1, log: (l) => lines.push(l) })
    expect(result.violations, lines.join('\n')).toEqual([])
    expect(result.killsSurvived).toBe(3)
    expect(result.txsSent).toBeGreaterThan(0)
  })
})
