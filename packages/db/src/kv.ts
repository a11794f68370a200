/**
 * The byte-level key-value store every Cairn component persists through.
 *
 * Keys and values are bytes. `batch` is atomic: either every operation lands or none does —
 * the chain relies on this to commit a block and everything it writes at once.
 */

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

export interface IterateOptions {
  gte?: Uint8Array
  gt?: Uint8Array
  lte?: Uint8Array
  lt?: Uint8Array
  reverse?: boolean
  limit?: number
}

/** A consistent read-only view of the store at one moment. */
export interface KVSnapshot {
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  iterate(opts?: IterateOptions): AsyncIterable<[Uint8Array, Uint8Array]>
  close(): Promise<void>
}

export interface KVStore {
  /** `leveldb` for the on-disk store, `memory` for tests and `--ephemeral`. */
  readonly kind: 'leveldb' | 'memory'
  open(): Promise<void>
  close(): Promise<void>
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /** Synchronous read; the hot path of state access. */
  getSync(key: Uint8Array): Uint8Array | undefined
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  del(key: Uint8Array): Promise<void>
  /** Applies every operation atomically, in order. */
  batch(ops: BatchOp[]): Promise<void>
  iterate(opts?: IterateOptions): AsyncIterable<[Uint8Array, Uint8Array]>
  snapshot(): KVSnapshot
}
