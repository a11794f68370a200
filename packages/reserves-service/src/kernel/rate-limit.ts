// The API's rate limits (service-kit's sliding window, in memory or in Redis shared by every
// instance): an authenticated request is charged to its principal with its role's limit (admin,
// auditor, user each have their own), any other to the client IP. Uploads and batches weigh more
// than a proof. A refusal is 429 with Retry-After, counted in cairn_reserves_rate_limited_total.
import { type LimitDecision, MemoryRateLimitStore, RateLimiter, type RateLimitStore } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Role } from './auth.ts'

export interface ReservesRateLimitOptions {
  enabled: boolean
  /** Sliding window length, ms. */
  windowMs: number
  /** Weight per window from one IP without credentials (the page, the public anchor, probes excepted). */
  perIp: number
  /** Weight per window of one principal, by role. */
  perRole: Record<Role, number>
  /** When the store (Redis) fails: `open` lets requests through, `closed` refuses them (503). */
  onStoreError: 'open' | 'closed'
}

export const DEFAULT_RATE_LIMIT: ReservesRateLimitOptions = {
  enabled: false,
  windowMs: 60_000,
  perIp: 600,
  perRole: { admin: 6000, auditor: 6000, user: 600 },
  onStoreError: 'open',
}

/** Routes never charged: probes and the scrape (keep them off the public network instead). */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics'])

/** What a request to a route pattern costs. */
export function routeWeight(method: string, route: string): number {
  if (method === 'POST' && route === '/v1/snapshots') return 50
  if (route === '/v1/snapshots/:id/proofs/batch' || route === '/v1/snapshots/:id/leaves') return 10
  return 1
}

export class ReservesLimiter {
  private readonly byRole: Map<Role, RateLimiter>
  private readonly byIp: RateLimiter

  constructor(
    readonly opts: ReservesRateLimitOptions,
    modules: { store?: RateLimitStore; logger: Logger; now?: () => number },
  ) {
    const store = modules.store ?? new MemoryRateLimitStore()
    const make = (perKey: number) =>
      new RateLimiter(
        { enabled: opts.enabled, windowMs: opts.windowMs, perIp: opts.perIp, perKey, onStoreError: opts.onStoreError },
        { store, logger: modules.logger, ...(modules.now ? { now: modules.now } : {}) },
      )
    this.byRole = new Map((Object.keys(opts.perRole) as Role[]).map((r) => [r, make(opts.perRole[r])]))
    this.byIp = make(opts.perIp)
  }

  /** Charges a request: to `principal` under its role's limit, else to `ip`. */
  charge(ip: string, principal: { role: Role; sub: string } | null, weight: number): Promise<LimitDecision> {
    const items = Array.from({ length: weight }, () => 'r')
    if (!principal) return this.byIp.charge({ ip, key: null }, items)
    return (this.byRole.get(principal.role) ?? this.byIp).charge(
      { ip, key: `${principal.role}:${principal.sub}` },
      items,
    )
  }
}
