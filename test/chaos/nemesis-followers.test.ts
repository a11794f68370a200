// The `producer` topology's nemesis plan (nemesis.ts planFollowerFaults): a function of the seed
// alone, faults that apply to one dev producer (node 0) and its followers, partitions shaped as
// docs/consensus/testing.md says; and the replay command a failing run prints.
import { describe, expect, it } from 'vitest'
import { FAULT_KINDS, planFollowerFaults } from './nemesis.ts'
import { Prng } from './prng.ts'
import { replayCommand } from './run.ts'

const plan = (seed: number, followers = 3) =>
  planFollowerFaults(new Prng(seed), { followers, durationMs: 600_000, kinds: FAULT_KINDS })

describe('planFollowerFaults', () => {
  it('is a function of the seed', () => {
    expect(plan(42)).toEqual(plan(42))
    expect(plan(42)).not.toEqual(plan(43))
  })

  it('draws no clock skew and no byzantine node; a full disk only on a follower', () => {
    for (let seed = 0; seed < 50; seed++) {
      const p = plan(seed)
      expect(p.byzantine).toBeNull()
      expect(p.faults.map((f) => f.kind)).not.toContain('clock-skew')
      if (p.diskNode !== undefined) expect(p.diskNode).toBeGreaterThan(0)
    }
  })

  it('splits followers from the producer, and cuts off a minority of followers', () => {
    let halves = 0
    let majority = 0
    for (let seed = 0; seed < 50; seed++) {
      for (const f of plan(seed, 5).faults) {
        const [a = [], b = []] = f.groups ?? []
        if (f.kind === 'partition-halves') {
          halves++
          // the producer's side: itself and at most ⌊5/2⌋ followers; the other side only followers
          expect(a[0]).toBe(0)
          expect(a.length - 1).toBeLessThanOrEqual(2)
          expect(b.length).toBeGreaterThanOrEqual(3)
          expect(b).not.toContain(0)
          expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5])
        }
        if (f.kind === 'partition-majority') {
          majority++
          // 1..⌊(5−1)/2⌋ followers cut off from the producer and the rest
          expect(a.length).toBeGreaterThanOrEqual(1)
          expect(a.length).toBeLessThanOrEqual(2)
          expect(a).not.toContain(0)
          expect(b).toContain(0)
        }
      }
    }
    expect(halves).toBeGreaterThan(0)
    expect(majority).toBeGreaterThan(0)
  })

  it('kills and pauses the producer too', () => {
    const hit = new Set<number>()
    for (let seed = 0; seed < 50; seed++)
      for (const f of plan(seed).faults) if (f.kind === 'kill' || f.kind === 'pause') hit.add(f.targets[0] as number)
    expect([...hit].sort()).toEqual([0, 1, 2, 3])
  })
})

describe('the replay command', () => {
  it('names the producer topology and its followers', () => {
    const cmd = replayCommand({
      seed: 9,
      topology: 'producer',
      validators: 0,
      followers: 3,
      durationMs: 60_000,
      kinds: ['kill', 'pause'],
      byzantine: 'never',
      livenessMs: 60_000,
      baseDir: '/tmp',
      keep: false,
      senders: 9,
      say: () => {},
    })
    expect(cmd).toBe(
      'npm run chaos -- --topology producer --seed 9 --followers 3 --duration 60 --faults kill,pause --liveness 60',
    )
  })
})
