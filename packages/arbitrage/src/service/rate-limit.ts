// The API's rate limits: each request is charged to its caller — the authenticated principal
// (API key name or token subject) when it has valid credentials, else the client IP — in
// service-kit's sliding window (memory by default, Redis when several instances share the limits).
// A refusal is a 429 with Retry-After, counted in cairn_arb_api_rate_limited_total{caller}.
import { type LimitDecision, MemoryRateLimitStore, RateLimiter, type RateLimitStore } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import { Counter, type Registry } from 'prom-client'

export interface ApiRateLimitOptions {
  enabled: boolean
  /** Length of the sliding window, ms. */
  windowMs: number
  /** Requests per window from one IP without valid credentials. */
  perIp: number
  /** Requests per window of one principal (API key or token subject), whatever its IP. */
  perPrincipal: number
  /** When the store (Redis) fails: `open` lets requests through, `closed` refuses them (503). */
  onStoreError: 'open' | 'closed'
}

export const DEFAULT_API_RATE_LIMIT: ApiRateLimitOptions = {
  enabled: true,
  windowMs: 60_000,
  perIp: 300,
  perPrincipal: 3000,
  onStoreError: 'open',
}

/** Routes never charged: probes and the scrape (keep them off the public network instead). */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics'])

export interface ApiLimiterModules {
  /** Default: a new in-memory store (one instance). */
  store?: RateLimitStore
  registry: Registry
  logger: Logger
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number
}

export class ApiLimiter {
  private readonly limiter: RateLimiter
  private readonly refused: Counter<'caller'>

  constructor(
    readonly opts: ApiRateLimitOptions,
    modules: ApiLimiterModules,
  ) {
    this.limiter = new RateLimiter(
      {
        enabled: opts.enabled,
        windowMs: opts.windowMs,
        perIp: opts.perIp,
        perKey: opts.perPrincipal,
        onStoreError: opts.onStoreError,
      },
      {
        store: modules.store ?? new MemoryRateLimitStore(),
        logger: modules.logger,
        ...(modules.now ? { now: modules.now } : {}),
      },
    )
    this.refused = apiRateLimitedCounter(modules.registry)
  }

  /** Charges one request to `principal` (its subject) or, without one, to `ip`. */
  async charge(ip: string, principal: string | null): Promise<LimitDecision> {
    const d = await this.limiter.charge({ ip, key: principal }, ['request'])
    if (!d.allowed && !d.storeDown) this.refused.inc({ caller: principal ? 'principal' : 'ip' })
    return d
  }
}

/** Retry-After in whole seconds (at least 1). */
export const retryAfterSeconds = (d: LimitDecision): number => Math.max(1, Math.ceil(d.retryAfterMs / 1000))

/** The API's rate-limit refusals (`cairn_arb_api_rate_limited_total{caller}`), made once per registry. */
export function apiRateLimitedCounter(registry: Registry): Counter<'caller'> {
  const name = 'cairn_arb_api_rate_limited_total'
  return (
    (registry.getSingleMetric(name) as Counter<'caller'> | undefined) ??
    new Counter({
      name,
      help: 'API requests refused by the rate limit (429), by who was charged: principal or ip',
      labelNames: ['caller'],
      registers: [registry],
    })
  )
}
