// Input of the webhook routes, checked at the edge: every refusal is a 400 saying what to fix.

import { ReservesErrorCode } from '@cairn/reserves'
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '@cairn/reserves/webhooks'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'

const KNOWN = new Set<string>([...WEBHOOK_EVENT_TYPES, ALL_EVENTS])

const Url = z.string().superRefine((v, ctx) => {
  const say = (message: string) => ctx.addIssue({ code: 'custom', message })
  if (v.length > 2048) return say('must be at most 2048 characters')
  let u: URL
  try {
    u = new URL(v)
  } catch {
    return say(`${JSON.stringify(v.slice(0, 100))} is not an absolute URL (like https://hooks.example.com/cairn)`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return say(`must be http:// or https://, not ${u.protocol}//`)
  if (u.username || u.password)
    return say('must not carry credentials (user:password@): the signature authenticates the service')
  if (u.hash) return say('must not have a #fragment (it is never sent)')
})

const Events = z
  .array(z.string(), { error: 'must be a list of event types' })
  .min(1, { error: `must name at least one event type (or "${ALL_EVENTS}" for all)` })
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .superRefine((v, ctx) => {
    const unknown = v.filter((t) => !KNOWN.has(t))
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')}; known: ${[...WEBHOOK_EVENT_TYPES, ALL_EVENTS].join(', ')}`,
      })
    if (new Set(v).size !== v.length) ctx.addIssue({ code: 'custom', message: 'lists an event type twice' })
  })

const Description = z.string().max(500, { error: 'must be at most 500 characters' })
const Enabled = z.boolean({ error: 'must be true or false' })

export const CreateWebhook = z.strictObject({
  url: Url,
  events: Events,
  description: Description.optional(),
  enabled: Enabled.optional(),
})

export const UpdateWebhook = z
  .strictObject({
    url: Url.optional(),
    events: Events.optional(),
    description: Description.optional(),
    enabled: Enabled.optional(),
  })
  .refine((o) => Object.keys(o).length > 0, { error: 'give at least one of url, events, description, enabled' })

export const RotateSecret = z.strictObject({
  /** How long the old secret keeps signing beside the new one (default 0: it stops at once). */
  graceSeconds: z
    .number({ error: 'must be a number of seconds' })
    .int({ error: 'must be whole seconds' })
    .min(0, { error: 'must be ≥ 0' })
    .max(7 * 86_400, { error: 'must be at most 604800 (7 days)' })
    .default(0),
})

export const DeliveryQuery = z.object({
  state: z.enum(['pending', 'delivered', 'dead'], { error: 'must be pending, delivered or dead' }).optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .min(1, { error: 'must be ≥ 1' })
    .max(1000, { error: 'must be ≤ 1000' })
    .default(100),
})

/** The value at `path` in `v` (undefined when absent). */
function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined
  return cur
}

/** Parses `v` or throws a 400 listing each field and what to fix. */
export function parseInput<T>(schema: z.ZodType<T>, v: unknown, what: string): T {
  const r = schema.safeParse(v ?? {})
  if (r.success) return r.data
  const issues = r.error.issues.map((i) => {
    const at = i.path.length > 0 ? i.path.join('.') : ''
    const msg =
      i.code === 'unrecognized_keys'
        ? `unknown field ${(i as { keys: string[] }).keys.join(', ')}`
        : i.code === 'invalid_type' && valueAt(v, i.path) === undefined
          ? 'is required'
          : i.message
    return at ? `${at} ${msg}` : msg
  })
  throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `bad ${what}: ${issues.join('; ')}`, {
    fault: 'caller',
    hint: 'see docs/reserves/webhooks.md for the fields',
  })
}
