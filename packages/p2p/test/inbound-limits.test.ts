import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Admission, InboundLimiter, isCidr, LOOPBACK, parseCidr } from '../src/inbound-limits.ts'

const IPS = ['203.0.113.1', '203.0.113.2', '2001:db8::1', '127.0.0.1', '::ffff:203.0.113.1']

type Op = { kind: 'wait'; ms: number } | { kind: 'admit'; ip: number } | { kind: 'release'; pick: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.integer({ min: 0, max: 14 }).map((x) => x * 50),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('admit' as const), ip: fc.nat({ max: IPS.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
)

describe('InboundLimiter', () => {
  it('never lets an IP hold more than the cap, nor admit more than the rate within any window, and refuses only then (property, injected clock)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        // windows and waits in steps of 50 ms: admissions land exactly on window edges often
        fc.constantFrom(100, 500, 1000),
        fc.array(opArb, { maxLength: 300 }),
        (maxPerIp, ratePerIp, windowMs, ops) => {
          let t = 1_000_000
          const limiter = new InboundLimiter({ maxPerIp, ratePerIp, windowMs, exempt: LOOPBACK }, { now: () => t })
          // The reference: live handles and admission times per IP (an IPv4-mapped address is its IPv4 one).
          const key = (ip: string) => ip.replace(/^::ffff:/, '')
          const handles: { ip: string; release: () => void }[] = []
          const admittedAt = new Map<string, number[]>()
          const live = (ip: string) => handles.filter((h) => h.ip === ip).length
          for (const op of ops) {
            if (op.kind === 'wait') t += op.ms
            else if (op.kind === 'release') {
              const [h] = handles.splice(op.pick % Math.max(1, handles.length), 1)
              h?.release()
              h?.release() // idempotent
            } else {
              const ip = IPS[op.ip] as string
              const k = key(ip)
              const a: Admission = limiter.admit(ip)
              if (k === '127.0.0.1') {
                expect(a.ok).toBe(true)
                continue
              }
              const times = admittedAt.get(k) ?? []
              const inWindow = times.filter((x) => x > t - windowMs).length
              const expected = live(k) >= maxPerIp ? 'per_ip' : inWindow >= ratePerIp ? 'rate' : 'ok'
              expect(a.ok ? 'ok' : a.reason).toBe(expected)
              if (a.ok) {
                handles.push({ ip: k, release: a.release })
                admittedAt.set(k, [...times, t])
              }
              // The invariants, whatever the decision: the cap, and the rate in every window ending now.
              expect(live(k)).toBeLessThanOrEqual(maxPerIp)
              expect(limiter.live(ip)).toBe(live(k))
              for (const end of admittedAt.get(k) ?? []) {
                const n = (admittedAt.get(k) ?? []).filter((x) => x > end - windowMs && x <= end).length
                expect(n).toBeLessThanOrEqual(ratePerIp)
              }
            }
          }
          // Everything released and a window later: no state is kept.
          for (const h of handles.splice(0)) h.release()
          t += windowMs + 1
          expect(limiter.admit('198.51.100.9').ok).toBe(true)
          expect(limiter.tracked()).toBe(1)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a burst from one IP is cut at the cap before any connection is open; other IPs are unaffected', () => {
    const t = 0
    const limiter = new InboundLimiter({ maxPerIp: 3, ratePerIp: 100, windowMs: 1000, exempt: [] }, { now: () => t })
    const burst = Array.from({ length: 10 }, () => limiter.admit('198.51.100.1'))
    expect(burst.filter((a) => a.ok)).toHaveLength(3)
    expect(burst.filter((a) => !a.ok && a.reason === 'per_ip')).toHaveLength(7)
    expect(limiter.admit('198.51.100.2').ok).toBe(true)
    // one closes: one more is let in
    const first = burst[0] as Admission & { ok: true }
    first.release()
    expect(limiter.admit('198.51.100.1').ok).toBe(true)
  })

  it('the rate window slides: 5 a second means 5 in any second, not 10 across a second boundary', () => {
    let t = 900
    const limiter = new InboundLimiter({ maxPerIp: 100, ratePerIp: 5, windowMs: 1000, exempt: [] }, { now: () => t })
    for (let i = 0; i < 5; i++) expect(limiter.admit('198.51.100.1').ok).toBe(true)
    t = 1100 // a new aligned second, but only 200 ms later
    const a = limiter.admit('198.51.100.1')
    expect(a.ok ? 'ok' : a.reason).toBe('rate')
    t = 1900 // the first five left the window
    expect(limiter.admit('198.51.100.1').ok).toBe(true)
  })

  it('exempt addresses and CIDRs are never limited nor tracked', () => {
    const limiter = new InboundLimiter(
      { maxPerIp: 1, ratePerIp: 1, windowMs: 1000, exempt: [...LOOPBACK, '10.1.0.0/16'] },
      { now: () => 0 },
    )
    for (const ip of ['127.0.0.1', '127.0.0.2', '::1', '10.1.200.3', '::FFFF:127.0.0.1']) {
      for (let i = 0; i < 20; i++) expect(limiter.admit(ip).ok).toBe(true)
      expect(limiter.isExempt(ip)).toBe(true)
    }
    expect(limiter.tracked()).toBe(0)
    expect(limiter.admit('10.2.0.1').ok).toBe(true)
    expect(limiter.admit('10.2.0.1').ok).toBe(false)
  })

  it('holds an IP to maxPendingPerIp connections in their handshake: one upgraded or closed frees its place', () => {
    const limiter = new InboundLimiter(
      { maxPerIp: 10, maxPendingPerIp: 2, ratePerIp: 100, windowMs: 1000, exempt: [] },
      { now: () => 0 },
    )
    const ip = '203.0.113.9'
    const [a, b] = [limiter.admit(ip), limiter.admit(ip)]
    expect(limiter.admit(ip)).toEqual({ ok: false, reason: 'pending', live: 2 })
    expect(limiter.admit('203.0.113.10').ok).toBe(true)
    if (!a.ok || !b.ok) throw new Error('admitted')
    a.upgraded()
    a.upgraded()
    expect(limiter.pending(ip)).toBe(1)
    const c = limiter.admit(ip)
    expect(c.ok).toBe(true)
    expect(limiter.admit(ip).ok).toBe(false)
    // A handshake that fails: the connection closes without being upgraded.
    b.release()
    expect(limiter.pending(ip)).toBe(1)
    expect(limiter.live(ip)).toBe(2)
    expect(limiter.admit(ip).ok).toBe(true)
  })

  it('parses addresses and CIDRs, and refuses anything else', () => {
    expect(parseCidr('127.0.0.0/8')).toEqual({ address: '127.0.0.0', prefix: 8, family: 'ipv4' })
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' })
    for (const bad of ['', 'localhost', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', '1.2.3/8'])
      expect(isCidr(bad), bad).toBe(false)
  })
})
