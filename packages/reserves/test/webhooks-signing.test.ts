// Webhook signatures (Stripe's t=…,v1=… over `timestamp.body`) and the retry schedule.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { backoffDelayMs } from '../src/webhooks/backoff.ts'
import { signWebhook, verifyWebhookSignature } from '../src/webhooks/signature.ts'

const SECRET = 'whsec_test-secret'
const BODY = '{"id":"evt_1","type":"snapshot.built","data":{"snapshotId":"s1"}}'
const T = 1_767_225_600

describe('webhook signatures', () => {
  it('is HMAC-SHA256 over `t.body`, as any HMAC implementation computes it', () => {
    const want = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex')
    expect(signWebhook([SECRET], BODY, T)).toBe(`t=${T},v1=${want}`)
    // bytes and text sign the same
    expect(signWebhook([SECRET], new TextEncoder().encode(BODY), T)).toBe(`t=${T},v1=${want}`)
  })

  it('verifies within the tolerance, on either side of the receiver clock', () => {
    const h = signWebhook([SECRET], BODY, T)
    expect(verifyWebhookSignature(SECRET, h, BODY, T, 300)).toEqual({ ok: true, timestamp: T })
    expect(verifyWebhookSignature(SECRET, h, BODY, T + 300, 300).ok).toBe(true)
    expect(verifyWebhookSignature(SECRET, h, BODY, T - 300, 300).ok).toBe(true)
  })

  it('refuses a replay older than the tolerance, and a timestamp from the future', () => {
    const h = signWebhook([SECRET], BODY, T)
    const old = verifyWebhookSignature(SECRET, h, BODY, T + 301, 300)
    expect(old.ok).toBe(false)
    expect(!old.ok && old.reason).toMatch(/more than 300 s from now/)
    expect(verifyWebhookSignature(SECRET, h, BODY, T - 301, 300).ok).toBe(false)
  })

  it('refuses another body, another secret, a moved timestamp', () => {
    const h = signWebhook([SECRET], BODY, T)
    expect(verifyWebhookSignature(SECRET, h, `${BODY} `, T).ok).toBe(false)
    expect(verifyWebhookSignature('whsec_other', h, BODY, T).ok).toBe(false)
    // the attacker cannot refresh the timestamp of a captured request: it is signed
    const moved = h.replace(`t=${T}`, `t=${T + 1000}`)
    const r = verifyWebhookSignature(SECRET, moved, BODY, T + 1000)
    expect(r).toEqual({ ok: false, reason: 'no signature matches this secret and body' })
  })

  it('accepts any of several v1 (a rotation’s grace period), in any order', () => {
    const both = signWebhook(['whsec_new', 'whsec_old'], BODY, T)
    expect(both.split(',')).toHaveLength(3)
    expect(verifyWebhookSignature('whsec_new', both, BODY, T).ok).toBe(true)
    expect(verifyWebhookSignature('whsec_old', both, BODY, T).ok).toBe(true)
    expect(verifyWebhookSignature('whsec_gone', both, BODY, T).ok).toBe(false)
  })

  it('answers malformed headers with a reason, never a throw', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /no signature header/],
      ['', /no signature header/],
      ['v1=abc', /no timestamp/],
      [`t=${T}`, /no v1 signature/],
      [`t=${T},v1=zz`, /no v1 signature/],
      ['garbage', /no timestamp/],
      [`t=-5,v1=${'0'.repeat(64)}`, /no timestamp/],
    ]
    for (const [h, why] of cases) {
      const r = verifyWebhookSignature(SECRET, h as string, BODY, T)
      expect(r.ok).toBe(false)
      expect(!r.ok && r.reason).toMatch(why)
    }
    expect(verifyWebhookSignature('', signWebhook([SECRET], BODY, T), BODY, T).ok).toBe(false)
    expect(verifyWebhookSignature(SECRET, signWebhook([SECRET], BODY, T), BODY, Number.NaN).ok).toBe(false)
  })
})

describe('the retry schedule', () => {
  const opts = { baseMs: 1000, maxMs: 60_000 }

  it('doubles per attempt between half and all of the cap, capped at maxMs', () => {
    const low = (n: number) => backoffDelayMs(n, opts, () => 0)
    const high = (n: number) => backoffDelayMs(n, opts, () => 0.999999)
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(low)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(high)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
    expect(backoffDelayMs(3, opts, () => 0.5)).toBe(3000)
  })

  it('stays finite and within bounds for absurd attempts and random values', () => {
    expect(backoffDelayMs(5000, opts, () => 0.3)).toBe(39000)
    expect(backoffDelayMs(0, opts, () => 0)).toBe(500)
    expect(backoffDelayMs(2, opts, () => 7)).toBe(2000)
    expect(backoffDelayMs(2, opts, () => -1)).toBe(1000)
  })

  it('spreads retries: jittered delays of one attempt differ', () => {
    let seed = 42
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const delays = Array.from({ length: 50 }, () => backoffDelayMs(4, opts, rand))
    expect(new Set(delays).size).toBeGreaterThan(40)
    for (const d of delays) expect(d >= 4000 && d <= 8000).toBe(true)
  })
})
