import { createRequire } from 'node:module'
import { CairnError, type Logger } from '@cairn/utils'
import type { Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import { ServiceErrorCode } from './errors.ts'
import { outboundMetrics, type ResilientCall, resilientCall } from './resilience.ts'

export interface RedisClientOptions {
  /** redis://[:password@]host:port/db */
  url: string
  /** The dependency's name: the `target` label of `cairn_outbound_calls_total` (`redis-rate-limit`). */
  target: string
  /** What the logs call it (`redis rate-limit store`). */
  label: string
  /** One call gives up after this long, ms. */
  timeoutMs: number
  /** Consecutive failures that open the breaker (default 5), and how long it stays open (default 5 s). */
  breaker?: { threshold: number; halfOpenAfterMs: number }
}

/**
 * The Redis client every service uses for what it keeps in Redis (rate-limit windows, the proof
 * cache): an ioredis client that never queues commands while disconnected (they fail at once),
 * reconnects in the background (backoff up to 2 s) and logs each distinct connection error once
 * until it changes, never throwing it at the process. Calls go through {@link execute}: a resilient
 * call (timeout, breaker) that fails at once with SERVICE_REDIS_DOWN (transient) while the client
 * is not ready. The password never reaches a log line.
 */
export class RedisClient {
  readonly redis: Redis
  private readonly call: ResilientCall
  private lastError = ''

  constructor(
    readonly opts: RedisClientOptions,
    private readonly modules: { logger: Logger; registry: Registry | null },
  ) {
    const url = redactUrl(opts.url)
    // Loaded on first use: ioredis costs ~80 ms to load, which every process that imports
    // service-kit paid at start (a dev node among them) without ever connecting to Redis.
    const { Redis: RedisCtor } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
    this.redis = new RedisCtor(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    this.redis.on('error', (err: Error) => {
      // ioredis emits every failed reconnect; log each distinct error once until it changes.
      if (err.message === this.lastError) return
      this.lastError = err.message
      modules.logger.warn({ err: err.message, url }, `${opts.label}: connection error`)
    })
    this.redis.on('ready', () => {
      if (this.lastError) modules.logger.info({ url }, `${opts.label}: connected again`)
      this.lastError = ''
    })
    this.call = resilientCall(
      {
        name: opts.target,
        timeoutMs: opts.timeoutMs,
        breaker: opts.breaker ?? { threshold: 5, halfOpenAfterMs: 5000 },
      },
      { logger: modules.logger, metrics: modules.registry ? outboundMetrics(modules.registry) : null },
    )
  }

  /** Connects; an unreachable Redis is logged, not fatal (calls fail at once until it answers). */
  async open(): Promise<void> {
    const url = redactUrl(this.opts.url)
    try {
      await this.redis.connect()
      this.modules.logger.info({ url }, `${this.opts.label} connected`)
    } catch (err) {
      this.modules.logger.warn(
        { err: (err as Error).message, url },
        `${this.opts.label} unreachable at start; retrying in the background`,
      )
    }
  }

  /** ioredis's connection status (`ready` when commands can run). */
  get status(): string {
    return this.redis.status
  }

  get ready(): boolean {
    return this.redis.status === 'ready'
  }

  /** Runs `fn` on the client through the resilient call; SERVICE_REDIS_DOWN at once when not ready. */
  execute<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    return this.call.execute(async () => {
      if (this.redis.status !== 'ready') {
        throw new CairnError(ServiceErrorCode.REDIS_DOWN, `redis is ${this.redis.status}`, { fault: 'transient' })
      }
      return fn(this.redis)
    })
  }

  async close(): Promise<void> {
    this.call.dispose()
    if (this.redis.status === 'end') return
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]+@/i, '$1[redacted]@')
    .replace(/^([a-z]+:\/\/)[^:@/]+@/i, '$1[redacted]@')
}
