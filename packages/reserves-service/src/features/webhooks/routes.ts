// The webhook routes (admin only): endpoints registered, listed, changed, deleted, their secret
// rotated; deliveries listed (the dead-letter list is `state=dead`) and redelivered. Every change
// is in the audit log, in the transaction that makes it; secrets never are.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { Sql } from '../../kernel/sql.ts'
import { CreateWebhook, DeliveryQuery, parseInput, RotateSecret, UpdateWebhook } from '../../kernel/validate.ts'
import type { Deliveries } from './deliveries.ts'
import type { WebhookEndpoints } from './endpoints.ts'

export interface WebhookRouteDeps {
  sql: Sql
  endpoints: WebhookEndpoints
  deliveries: Deliveries
  /** The service's role guard (onRequest hook: authenticates, checks the role, charges the rate limit). */
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
  /** A delivery became due (wakes this instance's worker). */
  wake: () => void
}

export async function webhookRoutes(app: FastifyInstance, d: WebhookRouteDeps): Promise<void> {
  const { sql, endpoints, deliveries, who } = d
  const admin = d.guard(['admin'])
  const audit = (tx: Sql, p: Principal, action: string, details: Record<string, unknown>) =>
    appendAudit(tx, { actor: p.sub, role: p.role, action, details })
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id

  app.post('/v1/webhooks', admin, async (req, reply) => {
    const body = parseInput(CreateWebhook, req.body, 'webhook')
    const made = await sql.transaction(async (tx) => {
      const m = await endpoints.create(body, tx)
      await audit(tx, who(req), 'webhook.created', { id: m.endpoint.id, url: body.url, events: body.events })
      return m
    })
    // the secret is shown here and at rotation, never again
    return reply.code(201).send({ ...made.endpoint, secret: made.secret })
  })

  app.get('/v1/webhooks', admin, async () => ({ webhooks: await endpoints.list() }))

  // every dead delivery of every endpoint, newest first
  app.get('/v1/webhooks/dead-letters', admin, async (req) => {
    const q = parseInput(DeliveryQuery.omit({ state: true }), req.query, 'query')
    return { deliveries: await deliveries.list({ state: 'dead', limit: q.limit }) }
  })

  app.get('/v1/webhooks/:id', admin, async (req) => endpoints.get(idOf(req)))

  app.patch('/v1/webhooks/:id', admin, async (req) => {
    const patch = parseInput(UpdateWebhook, req.body, 'webhook change')
    const ep = await sql.transaction(async (tx) => {
      const e = await endpoints.update(idOf(req), patch, tx)
      await audit(tx, who(req), 'webhook.updated', { id: e.id, ...patch })
      return e
    })
    // re-enabled: its waiting deliveries are due
    if (patch.enabled) d.wake()
    return ep
  })

  app.delete('/v1/webhooks/:id', admin, async (req, reply) => {
    await sql.transaction(async (tx) => {
      await endpoints.remove(idOf(req), tx)
      await audit(tx, who(req), 'webhook.deleted', { id: idOf(req) })
    })
    return reply.code(204).send()
  })

  app.post('/v1/webhooks/:id/rotate-secret', admin, async (req) => {
    const { graceSeconds } = parseInput(RotateSecret, req.body, 'rotation')
    const r = await sql.transaction(async (tx) => {
      const m = await endpoints.rotate(idOf(req), graceSeconds, tx)
      await audit(tx, who(req), 'webhook.secret_rotated', { id: m.endpoint.id, graceSeconds })
      return m
    })
    return { ...r.endpoint, secret: r.secret }
  })

  app.get('/v1/webhooks/:id/deliveries', admin, async (req) => {
    const q = parseInput(DeliveryQuery, req.query, 'query')
    await endpoints.get(idOf(req))
    return {
      deliveries: await deliveries.list({
        webhookId: idOf(req),
        limit: q.limit,
        ...(q.state ? { state: q.state } : {}),
      }),
    }
  })

  app.post('/v1/webhooks/:id/deliveries/:eventId/redeliver', admin, async (req) => {
    const { id, eventId } = req.params as { id: string; eventId: string }
    const out = await sql.transaction(async (tx) => {
      const r = await deliveries.redeliver(id, eventId, tx)
      await audit(tx, who(req), 'webhook.redelivered', { id, events: [eventId] })
      return r
    })
    d.wake()
    return out
  })

  app.post('/v1/webhooks/:id/redeliver-dead', admin, async (req) => {
    const id = idOf(req)
    await endpoints.get(id)
    const n = await sql.transaction(async (tx) => {
      const count = await deliveries.redeliverDead(id, tx)
      await audit(tx, who(req), 'webhook.redelivered', { id, dead: count })
      return count
    })
    d.wake()
    return { redelivered: n }
  })
}
