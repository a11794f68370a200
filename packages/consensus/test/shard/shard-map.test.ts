/** Jump consistent hashing: the reference vectors bit for bit, and what adding a shard moves. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkHomeShard, homeShard, jumpConsistentHash, MAX_SHARDS } from '../../src/shard/index.ts'

describe('jump consistent hash', () => {
  // The vectors every implementation tests against (the paper's C++, dgryski/go-jump, Guava),
  // including 2^31 buckets and the largest key.
  it.each([
    [1n, 1, 0],
    [42n, 57, 43],
    [0xdead10ccn, 1, 0],
    [0xdead10ccn, 666, 361],
    [256n, 1024, 520],
    [0n, 1, 0],
    [3n, 1, 0],
    [0n, 2, 0],
    [4n, 2, 1],
    [7n, 2, 0],
    [1n, 128, 55],
    [129n, 128, 120],
    [128n, 100_000_000, 38_172_097],
    [128n, 2_147_483_648, 1_644_467_860],
    [(1n << 64n) - 1n, 128, 92],
    [0n, -10, 0],
    [0xdead10ccn, -666, 0],
  ])('key %s in %i buckets is bucket %i', (key, buckets, expected) => {
    expect(jumpConsistentHash(key, buckets)).toBe(expected)
  })

  it('adding a shard moves addresses only to the new shard, about 1/(n+1) of them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 63 }),
        fc.array(fc.uint8Array({ minLength: 20, maxLength: 20 }), { minLength: 200, maxLength: 200 }),
        (n, addrs) => {
          for (const a of addrs) {
            const before = homeShard(a, n)
            const after = homeShard(a, n + 1)
            expect(before).toBeLessThan(n)
            if (after !== before) expect(after).toBe(n)
          }
          return true
        },
      ),
      { numRuns: 20 },
    )
    // The share over many addresses: 10,000 addresses from 4 to 5 shards move ~2,000.
    let moved = 0
    for (let i = 0; i < 10_000; i++) {
      const a = new Uint8Array(20)
      new DataView(a.buffer).setUint32(16, i)
      if (homeShard(a, 4) !== homeShard(a, 5)) moved++
    }
    expect(moved).toBeGreaterThan(1_800)
    expect(moved).toBeLessThan(2_200)
  })

  it('spreads addresses evenly', () => {
    const counts = new Array(4).fill(0)
    for (let i = 0; i < 8_000; i++) {
      const a = new Uint8Array(20)
      new DataView(a.buffer).setUint32(0, i * 2654435761)
      counts[homeShard(a, 4)]++
    }
    for (const c of counts) expect(Math.abs(c - 2_000)).toBeLessThan(200)
  })

  it('refuses a bad count or address, and names the right shard for a transaction sent to the wrong one', () => {
    expect(() => homeShard(new Uint8Array(20), 0)).toThrow(/shard count 0/)
    expect(() => homeShard(new Uint8Array(20), MAX_SHARDS + 1)).toThrow(/must be 1\.\.1024/)
    expect(() => homeShard(new Uint8Array(19), 4)).toThrow(/20 bytes/)
    const a = new Uint8Array(20).fill(7)
    const home = homeShard(a, 4)
    expect(() => checkHomeShard(a, 4, home)).not.toThrow()
    const wrong = (home + 1) % 4
    try {
      checkHomeShard(a, 4, wrong)
      expect.unreachable()
    } catch (err) {
      expect((err as { code: string }).code).toBe('CONSENSUS_SHARD_WRONG_SHARD')
      expect((err as Error).message).toContain(`lives on shard ${home}, not shard ${wrong}`)
      expect((err as { meta: { homeShard: number } }).meta.homeShard).toBe(home)
    }
  })
})
