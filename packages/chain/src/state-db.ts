import { Bucket, bucketKey, type KVStore, type WriteBatch } from '@cairn/db'
import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import { type BatchDBOp, type DB, type EncodingOpts, KECCAK256_RLP } from '@ethereumjs/util'

/**
 * The state trie's node store, in the chain's KV store under {@link Bucket.state}.
 *
 * The trie (and the state manager above it) write here while a block executes; those writes stay
 * in an in-memory overlay until {@link drainInto} moves them into the block's atomic batch. So a
 * block's state and its header, body and receipts reach the disk together or not at all. Reads
 * see the overlay first, then the disk. The store never deletes nodes: every block's state root
 * stays readable (an archive node), which `eth_getBalance` at old blocks and reorgs rely on.
 */
export class StateDB implements DB<string, string | Uint8Array> {
  private overlay = new Map<string, Uint8Array>()

  constructor(private readonly kv: KVStore) {}

  private dbKey(key: string): Uint8Array {
    return bucketKey(Bucket.state, hexToBytes(key))
  }

  async get(key: string, _opts?: EncodingOpts): Promise<Uint8Array | undefined> {
    const pending = this.overlay.get(key)
    if (pending !== undefined) return pending
    return this.kv.getSync(this.dbKey(key))
  }

  async put(key: string, val: string | Uint8Array, _opts?: EncodingOpts): Promise<void> {
    this.set(key, val)
  }

  private set(key: string, val: string | Uint8Array): void {
    this.overlay.set(key, typeof val === 'string' ? hexToBytes(val) : val)
  }

  async del(_key: string, _opts?: EncodingOpts): Promise<void> {
    // Nodes are content-addressed and shared between blocks: never deleted (no pruning).
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.set(op.key, op.value)
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /**
   * A view for reads and throw-away execution (eth_call): it reads through this store, and keeps
   * its own writes private so they never reach a block's batch.
   */
  readView(): StateReadView {
    return new StateReadView(this)
  }

  /** True when the node with this hash is stored (on disk or pending). */
  has(hash: Uint8Array): boolean {
    if (equalsBytes(hash, KECCAK256_RLP)) return true
    const key = bytesToHex(hash).slice(2)
    return this.overlay.has(key) || this.kv.getSync(this.dbKey(key)) !== undefined
  }

  /** Number of nodes waiting to be committed. */
  get pendingCount(): number {
    return this.overlay.size
  }

  /** Moves every pending write into `batch` and clears the overlay. */
  drainInto(batch: WriteBatch): void {
    for (const [k, v] of this.overlay) batch.put(this.dbKey(k), v)
    this.overlay = new Map()
  }

  /** Drops pending writes (the block they belonged to was abandoned). */
  discard(): void {
    this.overlay = new Map()
  }
}

/** See {@link StateDB.readView}. */
export class StateReadView implements DB<string, string | Uint8Array> {
  private readonly own = new Map<string, Uint8Array>()

  constructor(private readonly base: StateDB) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.own.get(key) ?? this.base.get(key)
  }

  async put(key: string, val: string | Uint8Array): Promise<void> {
    this.set(key, val)
  }

  private set(key: string, val: string | Uint8Array): void {
    this.own.set(key, typeof val === 'string' ? hexToBytes(val) : val)
  }

  async del(): Promise<void> {}

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.set(op.key, op.value)
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}
}
