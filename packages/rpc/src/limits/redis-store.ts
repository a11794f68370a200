import { randomBytes } from 'node:crypto'
import { outboundMetrics, type ResilientCall, resilientCall } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import type { LimitDecision, RateLimitStore } from './store.ts'

/**
 * The sliding-window log of {@link MemoryRateLimitStore}, atomically in Redis: one sorted set of
 * hits per bucket (score = time in ms, member = `time:weight:unique`) and a counter of the weight
 * they hold. The script drops hits that left the window (subtracting their weight), admits the
 * new hit if it fits, else computes when it would. Both keys expire one window after the last
 * call, so idle buckets vanish on their own. KEYS share a hash tag (Redis Cluster: one slot).
 */
const SLIDING_WINDOW_LUA = `
local zkey, skey = KEYS[1], KEYS[2]
local now, window, limit, weight = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local since = now - window
local used = tonumber(redis.call('GET', skey) or '0')
local gone = redis.call('ZRANGEBYSCORE', zkey, '-inf', since)
if #gone > 0 then
  for _, m in ipairs(gone) do used = used - tonumber(string.match(m, '^[^:]+:(%d+):')) end
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', since)
end
if used < 0 or redis.call('ZCARD', zkey) == 0 then used = 0 end
local allowed, remaining, retry = 0, 0, window
if used + weight <= limit then
  redis.call('ZADD', zkey, now, now .. ':' .. weight .. ':' .. ARGV[5])
  used = used + weight
  allowed, remaining, retry = 1, limit - used, 0
else
  local free = limit - used
  local hits = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
  for i = 1, #hits, 2 do
    free = free + tonumber(string.match(hits[i], '^[^:]+:(%d+):'))
    if free >= weight then retry = tonumber(hits[i + 1]) + window - now break end
  end
  if retry < 1 then retry = 1 end
end
if redis.call('ZCARD', zkey) == 0 then
  redis.call('DEL', zkey, skey)
else
  redis.call('SET', skey, used, 'PX', window)
  redis.call('PEXPIRE', zkey, window)
end
return { allowed, remaining, retry }
`

export interface RedisRateLimitStoreOptions {
  /** redis://[:password@]host:port/db */
  url: string
  /** Prefix of every key (default `cairn:rl:`). */
  prefix?: string
  /** One call gives up after this long (default 250 ms): a limit check must not stall requests. */
  timeoutMs?: number
}

type Reply = [number, number, number]

/**
 * A {@link RateLimitStore} in Redis, shared by every instance using the same URL and prefix.
 * Calls go through a resilient caller (timeout; after 5 consecutive failures the circuit opens for
 * 5 s and calls fail at once), counted in `cairn_outbound_calls_total{target="redis-rate-limit"}`.
 * A failing call throws a transient CairnError; the {@link RateLimiter} then applies
 * `rateLimit.onStoreError`. The client never queues commands while disconnected (they fail at
 * once) and reconnects in the background; its errors are logged, never thrown at the process.
 * Instances should keep their clocks in sync (NTP): the window is computed from the caller's time.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis
  private readonly call: ResilientCall
  private readonly prefix: string
  private seq = 0
  private readonly instance = randomBytes(6).toString('hex')
  private lastError = ''

  constructor(
    readonly opts: RedisRateLimitStoreOptions,
    private readonly modules: { logger: Logger; registry: Registry | null },
  ) {
    this.prefix = opts.prefix ?? 'cairn:rl:'
    const timeoutMs = opts.timeoutMs ?? 250
    this.redis = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    this.redis.defineCommand('cairnSlidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA })
    this.redis.on('error', (err: Error) => {
      // ioredis emits every failed reconnect; log each distinct error once until it changes.
      if (err.message === this.lastError) return
      this.lastError = err.message
      modules.logger.warn({ err: err.message, url: redactUrl(opts.url) }, 'redis rate-limit store: connection error')
    })
    this.redis.on('ready', () => {
      if (this.lastError) modules.logger.info({ url: redactUrl(opts.url) }, 'redis rate-limit store: connected again')
      this.lastError = ''
    })
    this.call = resilientCall(
      { name: 'redis-rate-limit', timeoutMs, breaker: { threshold: 5, halfOpenAfterMs: 5000 } },
      { logger: modules.logger, metrics: modules.registry ? outboundMetrics(modules.registry) : null },
    )
  }

  /** Connects; an unreachable Redis is logged, not fatal (calls fail per the policy until it answers). */
  async open(): Promise<void> {
    try {
      await this.redis.connect()
      this.modules.logger.info({ url: redactUrl(this.opts.url) }, 'redis rate-limit store connected')
    } catch (err) {
      this.modules.logger.warn(
        { err: (err as Error).message, url: redactUrl(this.opts.url) },
        'redis rate-limit store unreachable at start; retrying in the background',
      )
    }
  }

  async hit(key: string, weight: number, limit: number, windowMs: number, nowMs: number): Promise<LimitDecision> {
    const tag = `${this.prefix}{${key}}`
    const member = `${this.instance}${(this.seq++).toString(36)}`
    const run = this.redis as unknown as {
      cairnSlidingWindow(z: string, s: string, ...args: (string | number)[]): Promise<Reply>
    }
    const [allowed, remaining, retry] = await this.call.execute(async () => {
      if (this.redis.status !== 'ready') {
        throw new CairnError('RPC_LIMIT_STORE_DOWN', `redis is ${this.redis.status}`, { fault: 'transient' })
      }
      return run.cairnSlidingWindow(`${tag}:z`, `${tag}:s`, Math.floor(nowMs), windowMs, limit, weight, member)
    })
    return { allowed: allowed === 1, remaining, retryAfterMs: allowed === 1 ? 0 : retry }
  }

  async close(): Promise<void> {
    this.call.dispose()
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]+@/i, '$1[redacted]@')
}
