import { describe, expect, it } from 'vitest'
import { formatRecovery, recoveryMicros } from '../../bench/machine-speed.ts'

describe('recoveryMicros (the bench’s machine-speed line)', () => {
  it('times recoveries in batches: a positive median between the fastest and the slowest batch', () => {
    const f = recoveryMicros(3, 32)
    expect(f.min).toBeGreaterThan(0)
    expect(f.min).toBeLessThanOrEqual(f.median)
    expect(f.median).toBeLessThanOrEqual(f.max)
    // A native recovery takes tens of µs; anything near a millisecond is not libsecp256k1.
    expect(f.median).toBeLessThan(5_000)
  })

  it('prints the median with the spread', () => {
    expect(formatRecovery('recovery', { median: 70.04, min: 68.91, max: 74 })).toBe(
      'recovery 70.0 µs a signature (68.9–74.0)',
    )
  })
})
