// Webhook signatures, Stripe's scheme: the header `t=<unix seconds>,v1=<hex>` where each v1 is
// HMAC-SHA256(secret, `${t}.${body}`) — one v1 per secret in force (two while a rotated secret's
// grace period runs). A receiver recomputes the HMAC over the raw body it received, compares in
// constant time and refuses a timestamp further than its tolerance from its own clock, so a
// captured request cannot be replayed later. No Node API: runs in any JavaScript runtime.
import { hmac } from '@noble/hashes/hmac'
import { sha256 } from '@noble/hashes/sha2'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils'

/** The header carrying the signature (lower-case, as Node gives it in `req.headers`). */
export const SIGNATURE_HEADER = 'cairn-webhook-signature'
/** The header carrying the timestamp (also inside the signature header). */
export const TIMESTAMP_HEADER = 'cairn-webhook-timestamp'
/** The header carrying the idempotency key: the event id, the same on every retry. */
export const IDEMPOTENCY_HEADER = 'idempotency-key'
/** Default tolerance of {@link verifyWebhookSignature}: 5 minutes, as Stripe's. */
export const DEFAULT_TOLERANCE_SEC = 300

const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? utf8ToBytes(v) : v)

function mac(secret: string, timestampSec: number, body: string | Uint8Array): string {
  const b = bytes(body)
  const prefix = utf8ToBytes(`${timestampSec}.`)
  const msg = new Uint8Array(prefix.length + b.length)
  msg.set(prefix)
  msg.set(b, prefix.length)
  return bytesToHex(hmac(sha256, utf8ToBytes(secret), msg))
}

/**
 * The signature header for `body` sent at `timestampSec`, signed with every secret in `secrets`
 * (the current one first).
 *
 * @example signWebhook(['whsec_…'], '{"id":"evt_1"}', 1767225600) // 't=1767225600,v1=5f…'
 */
export function signWebhook(secrets: readonly string[], body: string | Uint8Array, timestampSec: number): string {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new RangeError('timestamp must be whole seconds')
  if (secrets.length === 0) throw new RangeError('at least one secret')
  return [`t=${timestampSec}`, ...secrets.map((s) => `v1=${mac(s, timestampSec, body)}`)].join(',')
}

export type WebhookVerification = { ok: true; timestamp: number } | { ok: false; reason: string }

function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return d === 0
}

/**
 * Checks a delivery as its receiver: `header` is the `Cairn-Webhook-Signature` value, `body` the raw
 * request body exactly as received (parse JSON only after this passes), `nowSec` the receiver's
 * clock in Unix seconds, `toleranceSec` how far the signed timestamp may be from it either way
 * (default 300). Never throws on bad input: answers `{ok: false, reason}`. Deduplicate on the
 * `Idempotency-Key` header (the event id) after this passes: a delivery may arrive more than once.
 *
 * @example
 * const v = verifyWebhookSignature(secret, req.headers['cairn-webhook-signature'], rawBody, Date.now() / 1000)
 * if (!v.ok) return res.writeHead(400).end(v.reason)
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  nowSec: number,
  toleranceSec: number = DEFAULT_TOLERANCE_SEC,
): WebhookVerification {
  if (typeof secret !== 'string' || secret.length === 0) return { ok: false, reason: 'no secret given' }
  if (typeof header !== 'string' || header.length === 0) return { ok: false, reason: 'no signature header' }
  let t: number | null = null
  const sigs: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const k = part.slice(0, eq).trim()
    const v = part.slice(eq + 1).trim()
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v)
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) sigs.push(v)
  }
  if (t === null) return { ok: false, reason: 'the signature header has no timestamp (t=…)' }
  if (sigs.length === 0) return { ok: false, reason: 'the signature header has no v1 signature' }
  if (!Number.isFinite(nowSec)) return { ok: false, reason: 'the receiver clock (now) is not a number' }
  if (Math.abs(nowSec - t) > toleranceSec)
    return { ok: false, reason: `timestamp ${t} is more than ${toleranceSec} s from now (${Math.floor(nowSec)})` }
  const want = mac(secret, t, body)
  // every candidate compared, in constant time each: no early exit tells which one matched
  let match = false
  for (const s of sigs) match = equal(s, want) || match
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'no signature matches this secret and body' }
}
