import type { BatchOp, KVStore } from './kv.ts'

/**
 * Collects the writes of one logical change (a block and everything it writes) so that they
 * commit as ONE atomic batch. Nothing reads through it: what a block's later steps read of its
 * own writes they keep themselves (the state's layers, the chain's caches). It kept a map of its
 * pending writes for such reads, which nothing made: a string key per write, ~6,000 a block.
 */
export class WriteBatch {
  readonly ops: BatchOp[] = []

  put(key: Uint8Array, value: Uint8Array): this {
    this.ops.push({ type: 'put', key, value })
    return this
  }

  del(key: Uint8Array): this {
    this.ops.push({ type: 'del', key })
    return this
  }

  get size(): number {
    return this.ops.length
  }

  /** Appends the operations of another batch after this one's. */
  merge(other: WriteBatch): this {
    for (const op of other.ops) op.type === 'put' ? this.put(op.key, op.value) : this.del(op.key)
    return this
  }

  write(store: KVStore): Promise<void> {
    return store.batch(this.ops)
  }
}
