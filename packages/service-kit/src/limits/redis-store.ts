import { randomBytes } from 'node:crypto'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { RedisClient } from '../redis.ts'
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
type SlidingWindow = { cairnSlidingWindow(z: string, s: string, ...args: (string | number)[]): Promise<Reply> }

/**
 * A {@link RateLimitStore} in Redis, shared by every instance using the same URL and prefix.
 * Calls go through service-kit's {@link RedisClient} (timeout; after 5 consecutive failures the
 * circuit opens for 5 s and calls fail at once), counted in
 * `cairn_outbound_calls_total{target="redis-rate-limit"}`. A failing call throws a transient
 * CairnError; the {@link RateLimiter} then applies its `onStoreError` policy.
 * Instances should keep their clocks in sync (NTP): the window is computed from the caller's time.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly client: RedisClient
  private readonly prefix: string
  private seq = 0
  private readonly instance = randomBytes(6).toString('hex')

  constructor(
    readonly opts: RedisRateLimitStoreOptions,
    modules: { logger: Logger; registry: Registry | null },
  ) {
    this.prefix = opts.prefix ?? 'cairn:rl:'
    this.client = new RedisClient(
      { url: opts.url, target: 'redis-rate-limit', label: 'redis rate-limit store', timeoutMs: opts.timeoutMs ?? 250 },
      modules,
    )
    this.client.redis.defineCommand('cairnSlidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA })
  }

  /** Connects; an unreachable Redis is logged, not fatal (calls fail per the policy until it answers). */
  open(): Promise<void> {
    return this.client.open()
  }

  async hit(key: string, weight: number, limit: number, windowMs: number, nowMs: number): Promise<LimitDecision> {
    const tag = `${this.prefix}{${key}}`
    const member = `${this.instance}${(this.seq++).toString(36)}`
    const [allowed, remaining, retry] = await this.client.execute((redis) =>
      (redis as unknown as SlidingWindow).cairnSlidingWindow(
        `${tag}:z`,
        `${tag}:s`,
        Math.floor(nowMs),
        windowMs,
        limit,
        weight,
        member,
      ),
    )
    return { allowed: allowed === 1, remaining, retryAfterMs: allowed === 1 ? 0 : retry }
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
