import { createHash } from 'node:crypto'
import { RedisClient } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import { LRUCache } from 'lru-cache'
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

/**
 * Proofs of built snapshots (immutable: a built snapshot never changes) in two tiers: an LRU in
 * memory, then Redis when configured, then `load` (the database). Keys never carry a user id:
 * `cairn:reserves:proof:v1:<snapshot>:<HMAC(at-rest key, snapshot ‖ user)>`, and values are
 * AES-256-GCM sealed with the at-rest key, so Redis holds no ids, salts or balances in clear.
 * Redis (service-kit's {@link RedisClient}) failures — down, slow: `redisTimeoutMs`, breaker
 * after 5 — fall through to the database and are counted; they never fail a request.
 */
export class ProofCache {
  private readonly memory: LRUCache<string, CachedProof>
  private readonly redis: RedisClient | null

  constructor(
    private readonly opts: ProofCacheOptions,
    private readonly modules: {
      key: AtRestKey
      logger: Logger
      metrics: ReservesMetrics | null
      registry: Registry | null
    },
  ) {
    this.memory = new LRUCache({ max: opts.memoryEntries })
    this.redis = opts.redisUrl
      ? new RedisClient(
          {
            url: opts.redisUrl,
            target: 'redis-proof-cache',
            label: 'proof cache: redis',
            timeoutMs: opts.redisTimeoutMs,
          },
          { logger: modules.logger, registry: modules.registry },
        )
      : null
  }

  /** Connects to Redis; an unreachable one is logged, not fatal (the database answers meanwhile). */
  async open(): Promise<void> {
    await this.redis?.open()
  }

  /** Readiness: throws unless Redis (when configured) answers a PING. */
  async check(): Promise<void> {
    if (!this.redis) return
    await this.redis.execute((r) => r.ping())
  }

  async close(): Promise<void> {
    await this.redis?.close()
  }

  private redisKey(snapshotId: string, userId: string): string {
    const k = Buffer.from(userKey(this.modules.key, snapshotId, userId)).toString('base64url')
    return `cairn:reserves:proof:v1:${snapshotId}:${k}`
  }

  private count(tier: 'memory' | 'redis', result: 'hit' | 'miss' | 'error') {
    this.modules.metrics?.proofCache.inc({ tier, result })
  }

  private async fromRedis(snapshotId: string, rk: string): Promise<CachedProof | null> {
    if (!this.redis) return null
    try {
      const sealed = await this.redis.execute((redis) => redis.getBuffer(rk))
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
    if (!this.redis) return
    const sealed = Buffer.from(seal(this.modules.key, new TextEncoder().encode(body), `proof:${snapshotId}`))
    void this.redis
      .execute((redis) => redis.set(rk, sealed, 'EX', this.opts.redisTtlSeconds))
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
    return this.redis?.ready ?? false
  }
}
