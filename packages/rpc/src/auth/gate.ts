import type { RateLimiter } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import { type ParsedBody, UNPARSEABLE } from '../body.ts'
import { httpStatusOf, RpcErrorCode, toJsonRpcError } from '../errors.ts'
import { requiredRole } from '../method-table.ts'
import { namespaceOf } from '../namespaces.ts'
import type { Principal } from './authenticator.ts'
import { type Role, roleAllows } from './roles.ts'

/** A request refused before dispatch: the HTTP status, the JSON-RPC body, Retry-After if any. */
export interface Refusal {
  status: number
  body: string
  retryAfterSeconds?: number
  /** For the log: why (no key material). */
  reason: string
  /** For metrics (`cairn_rpc_refused_total{reason}`): a fixed label. */
  kind: RefusalKind
}

/** Why a request or connection was refused before dispatch (the metric's `reason` label). */
export type RefusalKind =
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'limit_store_down'
  | 'connection_limit'
  | 'overloaded'
  | 'invalid_host'
  | 'origin_forbidden'
  | 'content_type'

type Id = string | number | null

/**
 * Checks a raw JSON-RPC body before it reaches the dispatcher. First its weight is charged to the
 * caller's rate-limit bucket (else 429) — every entry, whatever becomes of it: a body that does
 * not parse and an entry without a method weigh 1, and a request later refused for its
 * credentials is charged too (to the IP: refused credentials name no bucket), so guessing keys or
 * tokens is as rate-limited as anything else. Then every method must be allowed for the caller's
 * role (else 401/403 naming the role needed) — unless it is outside the served `namespaces`
 * (`rpc.api`): namespaces are the first gate, roles the second, so such a method goes on to the
 * dispatcher, which answers -32601 as geth does for a module it does not serve, whoever asks (a
 * 401 would hint that credentials open it). A body that does not parse then passes through: the
 * dispatcher answers it with a parse error.
 */
export async function gate(
  body: ParsedBody,
  caller: { principal: Principal; ip: string },
  limiter: RateLimiter | null,
  namespaces: ReadonlySet<string> | null = null,
): Promise<Refusal | undefined> {
  const parsed = body === UNPARSEABLE ? undefined : body.value
  const entries = body === UNPARSEABLE ? [] : (Array.isArray(parsed) ? parsed : [parsed]).map(entry)
  const batch = Array.isArray(parsed)
  if (limiter) {
    const methods = body === UNPARSEABLE ? [UNPARSEABLE_WEIGHT] : entries.map((e) => e.method ?? NO_METHOD)
    const key = caller.principal.kind === 'apiKey' || caller.principal.kind === 'jwt' ? caller.principal.name : null
    const decision = await limiter.charge(
      { ip: caller.ip, key: key === null ? null : `${caller.principal.kind}:${key}` },
      methods,
    )
    if (!decision.allowed && decision.storeDown) {
      const err = new CairnError(RpcErrorCode.LIMIT_STORE_DOWN, 'rate limits unavailable: try again shortly', {
        fault: 'transient',
        meta: { data: { retryAfter: 1 } },
      })
      return { ...respond(err, entries, batch, 'rate-limit store down'), retryAfterSeconds: 1 }
    }
    if (!decision.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000))
      const err = new CairnError(RpcErrorCode.RATE_LIMITED, 'limit exceeded', {
        fault: 'caller',
        hint: `retry after ${retryAfterSeconds} s`,
        meta: { data: { retryAfter: retryAfterSeconds } },
      })
      return { ...respond(err, entries, batch, 'rate limit'), retryAfterSeconds }
    }
  }
  for (const e of entries) {
    if (e.method === undefined) continue
    if (namespaces !== null && !namespaces.has(namespaceOf(e.method))) continue
    const need = requiredRole(e.method)
    if (roleAllows(caller.principal.role, need)) continue
    const err = refusal(caller.principal, e.method, need)
    return respond(err, entries, batch, `${e.method} needs ${need}`)
  }
  return undefined
}

/** Names charged (weight 1 each) for a body that does not parse and for an entry without a method. */
const UNPARSEABLE_WEIGHT = '(unparseable)'
const NO_METHOD = '(no method)'

function refusal(principal: Principal, method: string, need: Role): CairnError {
  const what = `${method} needs role ${need}`
  if (principal.invalid) {
    return new CairnError(RpcErrorCode.AUTH_INVALID, `${principal.invalid.message}; ${what}`, { fault: 'caller' })
  }
  if (principal.kind === 'anonymous') {
    return new CairnError(RpcErrorCode.AUTH_REQUIRED, `unauthorized: ${what}; send an API key or a JWT`, {
      fault: 'caller',
    })
  }
  return new CairnError(RpcErrorCode.FORBIDDEN, `forbidden: ${what} (you have ${principal.role})`, { fault: 'caller' })
}

function respond(err: CairnError, entries: { id: Id }[], batch: boolean, reason: string): Refusal {
  const error = toJsonRpcError(err)
  const out = (entries.length > 0 ? entries : [{ id: null }]).map((e) => ({ jsonrpc: '2.0', id: e.id, error }))
  const status = httpStatusOf(err)
  const kind: RefusalKind =
    status === 503
      ? 'limit_store_down'
      : status === 429
        ? 'rate_limited'
        : status === 403
          ? 'forbidden'
          : 'unauthorized'
  return { status, body: JSON.stringify(batch ? out : out[0]), reason, kind }
}

function entry(r: unknown): { id: Id; method: string | undefined } {
  if (typeof r !== 'object' || r === null) return { id: null, method: undefined }
  const o = r as { id?: unknown; method?: unknown }
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? o.id : null
  return { id, method: typeof o.method === 'string' ? o.method : undefined }
}
