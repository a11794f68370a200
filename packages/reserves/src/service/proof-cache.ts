import { createHash } from 'node:crypto'
import { outboundMetrics, type ResilientCall, resilientCall } from '@cairn/service-kit'
import { CairnError, type Logger, LruCache } from '@cairn/utils'
import { Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import { type AtRestKey, open, seal, userKey } from './at-rest.ts'
import type { ReservesMetrics } from './metrics.ts'

/** A served proof: its JSON text and strong ETag, computed once. */
export interface CachedProof {
  body: string
  etag: string
}

export interface ProofCacheOptions {
  /** Proofs kept in process memory (LRU). */
  memoryEntries: number
  /** redis://… to share proofs between instances and restarts; null: memory only. */
  redisUrl: string | null
  /** Lifetime of a proof in Redis (they never change; this only bounds Redis memory). */
  redisTtlSeconds: number
  /** One Redis call gives up after this long; the proof is then read from the database. */
  redisTimeoutMs: number
}

export const DEFAULT_PROOF_CACHE: ProofCacheOptions = {
  memoryEntries: 100_000,
  redisUrl: null,
  redisTtlSeconds: 7 * 24 * 3600,
  redisTimeoutMs: 200,
}

/** The strong ETag of a body: 27 base64url characters of its SHA-256. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@')

/**
 * Proofs of built snapshots (immutable: a built snapshot never changes) in two tiers: an LRU in
 * memory, then Redis when configured, then `load` (the database). Keys never carry a user id:
 * `cairn:reserves:proof:v1:<snapshot>:<HMAC(at-rest key, snapshot ‖ user)>`, and values are
 * AES-256-GCM sealed with the at-rest key, so Redis holds no ids, salts or balances in clear.
 * Redis failures (down, slow: `redisTimeoutMs`, breaker after 5) fall through to the database
 * and are counted; they never fail a request.
 */
export class ProofCache {
  private readonly memory: LruCache<string, CachedProof>
  private readonly redis: Redis | null
  private readonly call: ResilientCall | null
  private lastError = ''

  constructor(
    private readonly opts: ProofCacheOptions,
    private readonly modules: {
      key: AtRestKey
      logger: Logger
      metrics: ReservesMetrics | null
      registry: Registry | null
    },
  ) {
    this.memory = new LruCache(opts.memoryEntries)
    if (!opts.redisUrl) {
      this.redis = null
      this.call = null
      return
    }
    const url = opts.redisUrl
    this.redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    this.redis.on('error', (err: Error) => {
      if (err.message === this.lastError) return
      this.lastError = err.message
      modules.logger.warn({ err: err.message, url: redactUrl(url) }, 'proof cache: redis connection error')
    })
    this.redis.on('ready', () => {
      this.lastError = ''
    })
    this.call = resilientCall(
      { name: 'redis-proof-cache', timeoutMs: opts.redisTimeoutMs, breaker: { threshold: 5, halfOpenAfterMs: 5000 } },
      { logger: modules.logger, metrics: modules.registry ? outboundMetrics(modules.registry) : null },
    )
  }

  /** Connects to Redis; an unreachable one is logged, not fatal (the database answers meanwhile). */
  async open(): Promise<void> {
    if (!this.redis || !this.opts.redisUrl) return
    try {
      await this.redis.connect()
      this.modules.logger.info({ url: redactUrl(this.opts.redisUrl) }, 'proof cache: redis connected')
    } catch (err) {
      this.modules.logger.warn(
        { err: (err as Error).message, url: redactUrl(this.opts.redisUrl) },
        'proof cache: redis unreachable at start; using the database until it answers',
      )
    }
  }

  async close(): Promise<void> {
    this.call?.dispose()
    if (this.redis && this.redis.status !== 'end') this.redis.disconnect()
  }

  private redisKey(snapshotId: string, userId: string): string {
    const k = Buffer.from(userKey(this.modules.key, snapshotId, userId)).toString('base64url')
    return `cairn:reserves:proof:v1:${snapshotId}:${k}`
  }

  private count(tier: 'memory' | 'redis', result: 'hit' | 'miss' | 'error') {
    this.modules.metrics?.proofCache.inc({ tier, result })
  }

  private async fromRedis(snapshotId: string, rk: string): Promise<CachedProof | null> {
    if (!this.redis || !this.call) return null
    try {
      const sealed = await this.call.execute(async () => {
        if (this.redis?.status !== 'ready')
          throw new CairnError('RESERVES_CACHE_DOWN', `redis is ${this.redis?.status}`, { fault: 'transient' })
        return this.redis.getBuffer(rk)
      })
      if (!sealed) {
        this.count('redis', 'miss')
        return null
      }
      const body = new TextDecoder().decode(open(this.modules.key, sealed, `proof:${snapshotId}`))
      this.count('redis', 'hit')
      return { body, etag: etagOf(body) }
    } catch (err) {
      this.count('redis', 'error')
      this.modules.logger.debug({ err: (err as Error).message }, 'proof cache: redis read failed')
      return null
    }
  }

  private toRedis(snapshotId: string, rk: string, body: string): void {
    if (!this.redis || !this.call) return
    const sealed = Buffer.from(seal(this.modules.key, new TextEncoder().encode(body), `proof:${snapshotId}`))
    void this.call
      .execute(async () => {
        if (this.redis?.status !== 'ready')
          throw new CairnError('RESERVES_CACHE_DOWN', `redis is ${this.redis?.status}`, { fault: 'transient' })
        return this.redis.set(rk, sealed, 'EX', this.opts.redisTtlSeconds)
      })
      .catch((err: Error) => this.modules.logger.debug({ err: err.message }, 'proof cache: redis write failed'))
  }

  /** The proof of `userId` in built snapshot `snapshotId`, from memory, Redis or `load`. */
  async get(snapshotId: string, userId: string, load: () => Promise<string>): Promise<CachedProof> {
    const mk = `${snapshotId}\0${userId}`
    const hit = this.memory.get(mk)
    if (hit) {
      this.count('memory', 'hit')
      return hit
    }
    this.count('memory', 'miss')
    const rk = this.redis ? this.redisKey(snapshotId, userId) : ''
    let entry = await this.fromRedis(snapshotId, rk)
    if (!entry) {
      const body = await load()
      entry = { body, etag: etagOf(body) }
      this.toRedis(snapshotId, rk, body)
    }
    this.memory.set(mk, entry)
    return entry
  }

  /** Whether Redis is connected (for /ready and tests). */
  get redisReady(): boolean {
    return this.redis?.status === 'ready'
  }
}
