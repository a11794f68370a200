// K from the PHANTOM paper's bound gives Kaspa's precomputed table (consensus/core/src/config/bps.rs,
// D = 5 s, δ = 0.01) for 1 to 32 blocks a second.
import { describe, expect, it } from 'vitest'
import { ghostdagDelta, ghostdagK, KASPA_K_BOUND, kaspaLimits } from '../../src/ghostdag/index.ts'

const KASPA_TABLE = [
  18, 31, 43, 55, 67, 79, 90, 102, 113, 124, 135, 146, 157, 168, 179, 190, 201, 212, 223, 234, 244, 255, 266, 277, 288,
  298, 309, 320, 330, 341, 352, 362,
]

describe('GhostDAG K from block rate and delay', () => {
  it("gives Kaspa's table for 1 to 32 blocks a second", () => {
    expect(KASPA_TABLE.map((_, i) => ghostdagK({ blocksPerSecond: i + 1, ...KASPA_K_BOUND }))).toEqual(KASPA_TABLE)
  })

  it('grows with the delay and shrinks with a looser delta', () => {
    expect(ghostdagK({ blocksPerSecond: 10, networkDelaySeconds: 1, delta: 0.01 })).toBeLessThan(124)
    expect(ghostdagK({ blocksPerSecond: 10, networkDelaySeconds: 5, delta: 0.1 })).toBeLessThan(124)
    expect(() => ghostdagK({ blocksPerSecond: 0, networkDelaySeconds: 5, delta: 0.01 })).toThrow(RangeError)
  })

  it('the bound the other way round: the K of ghostdagK is the least whose delta is below it', () => {
    for (const blocksPerSecond of [1, 5, 10, 32]) {
      const k = ghostdagK({ blocksPerSecond, ...KASPA_K_BOUND })
      expect(ghostdagDelta({ blocksPerSecond, networkDelaySeconds: 5, k })).toBeLessThan(0.01)
      expect(ghostdagDelta({ blocksPerSecond, networkDelaySeconds: 5, k: k - 1 })).toBeGreaterThanOrEqual(0.01)
    }
    // K = 0 at one block in 2D seconds: every block with any block in its anticone, 1 - e^-1.
    expect(ghostdagDelta({ blocksPerSecond: 0.5, networkDelaySeconds: 1, k: 0 })).toBeCloseTo(1 - Math.exp(-1), 12)
  })

  it("derives Kaspa's parent and mergeset limits", () => {
    expect(kaspaLimits(18)).toEqual({ maxParents: 10, mergesetSizeLimit: 180 })
    expect(kaspaLimits(124)).toEqual({ maxParents: 16, mergesetSizeLimit: 248 })
  })
})
