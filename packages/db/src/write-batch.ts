import type { BatchOp, KVStore } from './kv.ts'
import { latin1Key } from './latin1-key.ts'

/**
 * Collects the writes of one logical change (a block and everything it writes) so that they
 * commit as ONE atomic batch. Reads through the batch see its own pending writes first.
 */
export class WriteBatch {
  readonly ops: BatchOp[] = []
  private readonly pending = new Map<string, Uint8Array | null>()

  put(key: Uint8Array, value: Uint8Array): this {
    this.ops.push({ type: 'put', key, value })
    this.pending.set(latin1Key(key), value)
    return this
  }

  del(key: Uint8Array): this {
    this.ops.push({ type: 'del', key })
    this.pending.set(latin1Key(key), null)
    return this
  }

  /** The pending value: a Uint8Array, `null` when deleted here, `undefined` when untouched. */
  peek(key: Uint8Array): Uint8Array | null | undefined {
    return this.pending.get(latin1Key(key))
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
