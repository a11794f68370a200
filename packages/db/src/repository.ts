import { type Bucket, bucketKey, bucketRange } from './buckets.ts'
import type { KVStore } from './kv.ts'
import type { WriteBatch } from './write-batch.ts'

/** Turns a typed value into bytes and back. */
export interface Codec<T> {
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** Raw bytes, unchanged. */
export const bytesCodec: Codec<Uint8Array> = { encode: (v) => v, decode: (b) => b }

/**
 * A typed view of one bucket: keys are encoded by `keyCodec` after the bucket byte, values by
 * `valueCodec`. Writes can go straight to the store or into a {@link WriteBatch}.
 */
export class Repository<K, V> {
  constructor(
    private readonly store: KVStore,
    readonly bucket: Bucket,
    private readonly keyCodec: Codec<K>,
    private readonly valueCodec: Codec<V>,
  ) {}

  key(id: K): Uint8Array {
    return bucketKey(this.bucket, this.keyCodec.encode(id))
  }

  async get(id: K): Promise<V | undefined> {
    const raw = await this.store.get(this.key(id))
    return raw === undefined ? undefined : this.valueCodec.decode(raw)
  }

  async getRaw(id: K): Promise<Uint8Array | undefined> {
    return this.store.get(this.key(id))
  }

  /**
   * Whether the key is stored. A synchronous point read (LevelDB's `getSync`, as state reads are):
   * the import path asks it three times per block, and each asynchronous read was a round trip
   * through libuv's thread pool with the main thread waiting.
   */
  async has(id: K): Promise<boolean> {
    return this.store.getSync(this.key(id)) !== undefined
  }

  put(id: K, value: V, batch?: WriteBatch): Promise<void> | undefined {
    const k = this.key(id)
    const v = this.valueCodec.encode(value)
    if (batch) {
      batch.put(k, v)
      return undefined
    }
    return this.store.put(k, v)
  }

  del(id: K, batch?: WriteBatch): Promise<void> | undefined {
    const k = this.key(id)
    if (batch) {
      batch.del(k)
      return undefined
    }
    return this.store.del(k)
  }

  /** Every (key, value) of the bucket in key order. */
  async *entries(opts: { reverse?: boolean; limit?: number } = {}): AsyncIterable<[K, V]> {
    for await (const [k, v] of this.store.iterate({ ...bucketRange(this.bucket), ...opts })) {
      yield [this.keyCodec.decode(k.subarray(1)), this.valueCodec.decode(v)]
    }
  }
}
