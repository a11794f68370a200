import type { BatchOp, IterateOptions, KVSnapshot, KVStore } from './kv.ts'
import { latin1Bytes, latin1Key } from './latin1-key.ts'

/**
 * An in-memory store with the same semantics as LevelDB (sorted byte keys, atomic batches,
 * snapshots). Used by unit tests and `--ephemeral`. Keys are held as latin1 strings (one character
 * per byte, made natively: a third of the cost of hex), whose order equals the byte order.
 */
export class MemoryKV implements KVStore {
  readonly kind = 'memory' as const
  private map = new Map<string, Uint8Array>()
  private sorted: string[] | null = null

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(latin1Key(key))
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(latin1Key(key))
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((k) => this.map.get(latin1Key(k)))
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.apply([{ type: 'put', key, value }])
  }

  async del(key: Uint8Array): Promise<void> {
    this.apply([{ type: 'del', key }])
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.apply(ops)
  }

  private apply(ops: BatchOp[]): void {
    for (const op of ops) {
      const k = latin1Key(op.key)
      if (op.type === 'put') {
        if (!this.map.has(k)) this.sorted = null
        this.map.set(k, op.value.slice())
      } else if (this.map.delete(k)) {
        this.sorted = null
      }
    }
  }

  iterate(opts: IterateOptions = {}): AsyncIterable<[Uint8Array, Uint8Array]> {
    return iterateEntries(this.entries(opts))
  }

  snapshot(): KVSnapshot {
    const copy = new MemoryKV()
    copy.map = new Map(this.map)
    return { get: (k) => copy.get(k), iterate: (o) => copy.iterate(o), close: async () => {} }
  }

  private entries(opts: IterateOptions): [Uint8Array, Uint8Array][] {
    if (this.sorted === null) this.sorted = [...this.map.keys()].sort()
    const gte = opts.gte && latin1Key(opts.gte)
    const gt = opts.gt && latin1Key(opts.gt)
    const lte = opts.lte && latin1Key(opts.lte)
    const lt = opts.lt && latin1Key(opts.lt)
    let keys = this.sorted.filter(
      (k) =>
        (gte === undefined || k >= gte) &&
        (gt === undefined || k > gt) &&
        (lte === undefined || k <= lte) &&
        (lt === undefined || k < lt),
    )
    if (opts.reverse) keys = keys.reverse()
    if (opts.limit !== undefined && opts.limit >= 0) keys = keys.slice(0, opts.limit)
    return keys.map((k) => [latin1Bytes(k), this.map.get(k) as Uint8Array])
  }
}

async function* iterateEntries(entries: [Uint8Array, Uint8Array][]): AsyncIterable<[Uint8Array, Uint8Array]> {
  for (const e of entries) yield e
}
