import { keccak256 } from '@cairn/crypto'
import { Bucket, bucketKey, type KVStore, WriteBatch } from '@cairn/db'
import { bytesToHex, concatBytes, equalsBytes, hexToBytes } from '@cairn/utils'
import { type BatchDBOp, type DB, type EncodingOpts, KECCAK256_RLP } from '@ethereumjs/util'
import { NodeRing } from './node-ring.ts'
import type { NodeSink, RemoteTrie } from './remote-trie.ts'

/** The key prefix of contract code in the node store (@ethereumjs's `CODEHASH_PREFIX`, `c`). */
const CODE_PREFIX = Uint8Array.of(0x63)

export interface StateDBOptions {
  /**
   * Bytes of recently read and written trie nodes kept in memory ({@link NodeRing}) in front of the
   * store; 0 or absent: none (an in-memory store needs none).
   */
  nodeCacheBytes?: number
}

/**
 * The state trie's node store, in the chain's KV store under {@link Bucket.state}.
 *
 * A block's execution writes its new trie nodes into a {@link StateLayer} of its own (owned by the
 * `ExecutedBlock`), which the import pipeline puts into the block's atomic batch
 * ({@link commitLayer}): a block's state and its header, body and receipts reach the disk together
 * or not at all. The store's own overlay ({@link drainInto}) is for writes outside execution (the
 * genesis state). Reads
 * see the overlay first, then the disk. The store never deletes nodes: every block's state root
 * stays readable (an archive node), which `eth_getBalance` at old blocks and reorgs rely on.
 */
export class StateDB implements DB<string, string | Uint8Array>, NodeSink {
  private overlay = new Map<string, Uint8Array>()
  /** Nodes read from or written to disk lately (see {@link NodeRing}); none without `nodeCacheBytes`. */
  readonly ring: NodeRing | undefined
  /**
   * Fork mode: the remote state this store's trie is filled from (`src/fork/`); every state
   * manager over this store (or a layer of it) is hooked to fetch before it walks
   * (`newStateManager`).
   */
  remote: RemoteTrie | undefined

  constructor(
    private readonly kv: KVStore,
    opts: StateDBOptions = {},
  ) {
    this.ring = opts.nodeCacheBytes ? new NodeRing(opts.nodeCacheBytes) : undefined
  }

  private dbKey(key: string): Uint8Array {
    return bucketKey(Bucket.state, hexToBytes(key))
  }

  async get(key: string, _opts?: EncodingOpts): Promise<Uint8Array | undefined> {
    const pending = this.overlay.get(key)
    if (pending !== undefined) return pending
    if (this.ring === undefined || key.length !== 64) return this.kv.getSync(this.dbKey(key))
    return this.read(hexToBytes(key))
  }

  /** A node from the ring, else from disk (then kept in the ring). */
  private read(hash: Uint8Array): Uint8Array | undefined {
    const ring = this.ring as NodeRing
    const held = ring.get(hash)
    if (held !== undefined) return held
    const stored = this.kv.getSync(bucketKey(Bucket.state, hash))
    if (stored !== undefined) ring.set(hash, stored)
    return stored
  }

  async put(key: string, val: string | Uint8Array, _opts?: EncodingOpts): Promise<void> {
    this.set(key, val)
  }

  /**
   * Fork mode: stores trie nodes fetched from the remote (keyed by their hash) and a contract's
   * code (keyed as the state manager keys code: `c` + its hash), straight to the store: they are
   * the remote's content-addressed nodes, true in every state that reaches them.
   */
  async adopt(nodes: Uint8Array[], code?: Uint8Array): Promise<void> {
    const batch = new WriteBatch()
    const hashes = nodes.map((n) => keccak256(n))
    for (const [i, n] of nodes.entries()) batch.put(bucketKey(Bucket.state, hashes[i] as Uint8Array), n)
    if (code !== undefined) batch.put(bucketKey(Bucket.state, concatBytes(CODE_PREFIX, keccak256(code))), code)
    await batch.write(this.kv)
    for (const [i, n] of nodes.entries()) this.ring?.set(hashes[i] as Uint8Array, n)
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
   * its own writes private so they never reach a block's batch: a {@link StateLayer} of no
   * execution, never committed.
   */
  readView(): StateLayer {
    return new StateLayer(this)
  }

  /** The stored RLP of the node with this hash (pending or on disk), read synchronously. */
  nodeSync(hash: Uint8Array): Uint8Array | undefined {
    if (this.overlay.size > 0) {
      const pending = this.overlay.get(bytesToHex(hash).slice(2))
      if (pending !== undefined) return pending
    }
    if (this.ring !== undefined && hash.length === 32) return this.read(hash)
    return this.kv.getSync(bucketKey(Bucket.state, hash))
  }

  /** True when the node with this hash is stored (on disk or pending). */
  has(hash: Uint8Array): boolean {
    return equalsBytes(hash, KECCAK256_RLP) || this.nodeSync(hash) !== undefined
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

  /**
   * A layer for one execution's writes, on top of the store (or of `parent`, the layer of an
   * executed block not committed yet).
   */
  layer(parent?: StateLayer): StateLayer {
    return new StateLayer(this, parent !== undefined && !parent.committed ? parent : undefined)
  }

  /** Puts a layer's writes into `batch` (then {@link StateLayer.markCommitted} once written). */
  commitLayer(layer: StateLayer, batch: WriteBatch): void {
    for (const [k, v] of layer.entries()) batch.put(this.dbKey(k), v)
  }

  /** @internal A committed layer's writes, now on disk: kept in the ring, where the next blocks read. */
  written(nodes: Map<string, Uint8Array>): void {
    const ring = this.ring
    if (ring === undefined) return
    for (const [k, v] of nodes) ring.setHex(k, v)
  }

  /** Drops pending writes (the block they belonged to was abandoned). */
  discard(): void {
    this.overlay = new Map()
  }
}

/**
 * The state-trie writes of one execution, owned by its {@link ExecutedBlock} value: new nodes
 * stay here (reads see them first, then the parent execution's layer while that is uncommitted,
 * then the store) until the block commits ({@link StateDB.commitLayer}). Several layers exist at
 * once (a proposal under vote, a fork, the next proposal on top of the first); dropping one drops
 * only its writes.
 */
export class StateLayer implements DB<string, string | Uint8Array> {
  private own = new Map<string, Uint8Array>()
  private done = false

  constructor(
    private readonly base: StateDB,
    private parent: StateLayer | undefined = undefined,
  ) {}

  /** The store's remote state in fork mode ({@link StateDB.remote}). */
  get remote(): RemoteTrie | undefined {
    return this.base.remote
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.lookup(key) ?? (await this.base.get(key))
  }

  /** The node from this layer or an uncommitted ancestor's. */
  private lookup(key: string): Uint8Array | undefined {
    for (let l: StateLayer | undefined = this; l !== undefined; l = l.parent) {
      const v = l.own.get(key)
      if (v !== undefined) return v
    }
    return undefined
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

  /** True when the node with this hash is readable here (pending in a layer, or stored). */
  has(hash: Uint8Array): boolean {
    return this.lookup(bytesToHex(hash).slice(2)) !== undefined || this.base.has(hash)
  }

  /** Number of nodes this execution wrote. */
  get size(): number {
    return this.own.size
  }

  /** @internal The layer's own writes (for {@link StateDB.commitLayer}). */
  entries(): IterableIterator<[string, Uint8Array]> {
    return this.own.entries()
  }

  /**
   * @internal Called once the layer's writes are on disk: they are dropped from memory (reads
   * find them in the store), and layers built on this one stop looking here.
   */
  markCommitted(): void {
    this.done = true
    this.base.written(this.own)
    this.own = new Map()
    this.parent = undefined
  }

  /** True once the writes are in the store. */
  get committed(): boolean {
    return this.done
  }
}

/**
 * The node store the executor's trie writes through: the layer of the execution in progress.
 * Executions run one at a time on the executor's single state manager, and each switches it to
 * a fresh {@link StateLayer} first.
 */
export class LayerSwitch implements DB<string, string | Uint8Array> {
  current: StateLayer | StateDB

  constructor(private readonly base: StateDB) {
    this.current = base
  }

  /** The store's remote state in fork mode ({@link StateDB.remote}). */
  get remote(): RemoteTrie | undefined {
    return this.base.remote
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.current.get(key)
  }

  put(key: string, val: string | Uint8Array): Promise<void> {
    return this.current.put(key, val)
  }

  async del(): Promise<void> {}

  batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    return this.current.batch(ops)
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}
}
