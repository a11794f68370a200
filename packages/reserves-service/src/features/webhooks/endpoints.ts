// Webhook endpoints as operators register them: URL, event types, enabled flag, description, and
// a secret generated here, shown once (at creation and at each rotation) and kept sealed with the
// at-rest key — the service must sign with it, so it is encrypted, not hashed.
import { randomBytes } from 'node:crypto'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import { type AtRestKey, open, seal } from '../../kernel/at-rest.ts'
import type { Row, Sql } from '../../kernel/sql.ts'

export interface WebhookEndpoint {
  id: string
  url: string
  /** Event types, or `["*"]` for all. */
  events: string[]
  description: string
  enabled: boolean
  /** Until when the previous secret still signs beside the current one (null: none). */
  previousSecretUntil: string | null
  createdAt: string
  updatedAt: string
}

export interface EndpointInput {
  url: string
  events: string[]
  description?: string
  enabled?: boolean
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString())

function endpointOf(r: Row): WebhookEndpoint {
  return {
    id: r.id as string,
    url: r.url as string,
    events: r.events as string[],
    description: r.description as string,
    enabled: r.enabled === true,
    previousSecretUntil: r.prev_valid === true ? iso(r.prev_until) : null,
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
  }
}

const COLUMNS = '*, (prev_until IS NOT NULL AND prev_until > now()) AS prev_valid'

/** A fresh secret: `whsec_` + 32 random bytes, base64url. The HMAC key is this whole string (UTF-8). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}

export const webhookUnknown = (id: string) =>
  new CairnError(ReservesErrorCode.WEBHOOK_UNKNOWN, `webhook ${id} does not exist`, {
    fault: 'caller',
    hint: 'GET /v1/webhooks lists them',
  })

const aad = (id: string) => `webhook:${id}`

export class WebhookEndpoints {
  constructor(
    private readonly sql: Sql,
    private readonly key: AtRestKey,
  ) {}

  /** Registers an endpoint; the secret is returned here and never again. */
  async create(input: EndpointInput, tx?: Sql): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const id = `wh_${randomBytes(9).toString('hex')}`
    const secret = newSecret()
    const r = await (tx ?? this.sql).query(
      `INSERT INTO reserves_webhooks (id, url, events, description, enabled, key_id, secret_enc)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        id,
        input.url,
        JSON.stringify(input.events),
        input.description ?? '',
        input.enabled ?? true,
        this.key.id,
        seal(this.key, new TextEncoder().encode(secret), aad(id)),
      ],
    )
    return { endpoint: endpointOf(r[0]!), secret }
  }

  async list(): Promise<WebhookEndpoint[]> {
    return (await this.sql.query(`SELECT ${COLUMNS} FROM reserves_webhooks ORDER BY created_at, id`)).map(endpointOf)
  }

  async get(id: string): Promise<WebhookEndpoint> {
    const r = await this.sql.query(`SELECT ${COLUMNS} FROM reserves_webhooks WHERE id = $1`, [id])
    if (!r[0]) throw webhookUnknown(id)
    return endpointOf(r[0])
  }

  /** Changes what is given (url, events, description, enabled). */
  async update(id: string, patch: Partial<EndpointInput>, tx?: Sql): Promise<WebhookEndpoint> {
    const r = await (tx ?? this.sql).query(
      `UPDATE reserves_webhooks SET url = COALESCE($2, url), events = COALESCE($3::jsonb, events),
              description = COALESCE($4, description), enabled = COALESCE($5, enabled), updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        patch.url ?? null,
        patch.events ? JSON.stringify(patch.events) : null,
        patch.description ?? null,
        patch.enabled ?? null,
      ],
    )
    if (!r[0]) throw webhookUnknown(id)
    return endpointOf(r[0])
  }

  /** Deletes the endpoint and its deliveries (pending ones are never sent). */
  async remove(id: string, tx?: Sql): Promise<void> {
    const r = await (tx ?? this.sql).query('DELETE FROM reserves_webhooks WHERE id = $1 RETURNING 1 AS x', [id])
    if (r.length === 0) throw webhookUnknown(id)
  }

  /**
   * Replaces the secret; the old one keeps signing beside the new one (two `v1=` in the header) for
   * `graceSec` seconds, so receivers can switch without refusing deliveries (0: it stops at once).
   */
  async rotate(id: string, graceSec: number, tx?: Sql): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const db = tx ?? this.sql
    const cur = await db.query('SELECT secret_enc FROM reserves_webhooks WHERE id = $1', [id])
    if (!cur[0]) throw webhookUnknown(id)
    const old = this.open(id, cur[0].secret_enc as Uint8Array)
    const secret = newSecret()
    const enc = new TextEncoder()
    const r = await db.query(
      `UPDATE reserves_webhooks SET secret_enc = $2, key_id = $3, prev_secret_enc = $4,
              prev_until = CASE WHEN $5::int > 0 THEN now() + $5::int * interval '1 second' ELSE NULL END, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        seal(this.key, enc.encode(secret), aad(id)),
        this.key.id,
        seal(this.key, enc.encode(old), aad(id)),
        graceSec,
      ],
    )
    return { endpoint: endpointOf(r[0]!), secret }
  }

  /** The secrets an endpoint's deliveries are signed with now (current first), from a claimed row. */
  secretsOf(id: string, current: Uint8Array, previous: Uint8Array | null): string[] {
    const out = [this.open(id, current)]
    if (previous) out.push(this.open(id, previous))
    return out
  }

  private open(id: string, sealed: Uint8Array): string {
    return new TextDecoder().decode(open(this.key, sealed, aad(id)))
  }
}
