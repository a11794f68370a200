import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Quota } from '../src/quota.ts'
import { GOSSIP_SCORE_AT_BAN, PeerAction, PeerScores, SCORE_HALFLIFE_MS } from '../src/scoring.ts'

function clock() {
  let t = 1_000_000
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
  }
}

describe('peer scores', () => {
  it('a fatal action bans at once', () => {
    const s = new PeerScores(clock().now)
    expect(s.apply('p', PeerAction.Fatal)).toBe('ban')
  })

  it('low-tolerance errors disconnect after two and ban after five', () => {
    const s = new PeerScores(clock().now)
    expect(s.apply('p', PeerAction.LowToleranceError)).toBe('healthy')
    expect(s.apply('p', PeerAction.LowToleranceError)).toBe('disconnect')
    for (let i = 0; i < 2; i++) s.apply('p', PeerAction.LowToleranceError)
    expect(s.apply('p', PeerAction.LowToleranceError)).toBe('ban')
  })

  it('scores halve every half-life, so a disconnected peer becomes healthy again', () => {
    const c = clock()
    const s = new PeerScores(c.now)
    s.apply('p', PeerAction.LowToleranceError)
    s.apply('p', PeerAction.LowToleranceError)
    expect(s.score('p')).toBeCloseTo(-20)
    c.advance(SCORE_HALFLIFE_MS)
    expect(s.score('p')).toBeCloseTo(-10)
    expect(s.state('p')).toBe('healthy')
  })

  it("gossipsub's negative score counts, scaled to the ban threshold; its positive score does not", () => {
    const s = new PeerScores(clock().now)
    expect(s.setGossipScore('p', 500)).toBe('healthy')
    expect(s.score('p')).toBe(0)
    expect(s.setGossipScore('p', GOSSIP_SCORE_AT_BAN)).toBe('ban')
  })

  it('the score stays within bounds and only decays toward zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...Object.values(PeerAction)), fc.integer({ min: 0, max: 3_600_000 }))),
        (steps) => {
          const c = clock()
          const s = new PeerScores(c.now)
          for (const [action, wait] of steps) {
            s.apply('p', action)
            const before = s.score('p')
            c.advance(wait)
            const after = s.score('p')
            expect(after).toBeGreaterThanOrEqual(-100)
            expect(after).toBeLessThanOrEqual(0)
            expect(after).toBeGreaterThanOrEqual(before)
          }
        },
      ),
    )
  })
})

describe('request quota', () => {
  it('spends tokens and refills them over time, per key', () => {
    const c = clock()
    const q = new Quota({ capacity: 10, perSecond: 5 }, c.now)
    expect(q.take('a', 10)).toBe(true)
    expect(q.take('a', 1)).toBe(false)
    expect(q.take('b', 1)).toBe(true)
    c.advance(1000)
    expect(q.take('a', 5)).toBe(true)
    expect(q.take('a', 1)).toBe(false)
    c.advance(60_000)
    expect(q.take('a', 11)).toBe(false)
    expect(q.take('a', 10)).toBe(true)
  })
})
