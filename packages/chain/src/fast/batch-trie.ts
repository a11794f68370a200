import { keccak256 } from '@cairn/crypto'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP } from '@ethereumjs/util'
import { ChainErrorCode } from '../errors.ts'
import { RlpArena } from '../state/rlp-arena.ts'
import { compareBytes, decodePath, encodePath, toNibbles } from '../state/trie-path.ts'
import type { TimeSlice } from '../time-slice.ts'

/** A trie node as its RLP structure: a branch (17 items) or a leaf/extension [path, value|child]. */
type RawNode = Uint8Array | RawNode[]
type Node = RawNode[]

/** A key (as 64 nibbles: the keys are 32-byte hashes) and its new value, or null to delete it. */
interface Change {
  key: Uint8Array
  value: Uint8Array | null
}

const EMPTY = new Uint8Array()
/**
 * Decoded nodes kept (by hash): a decoded branch is ~1.5 KB (17 byte views), so ~75 MB at most.
 * Enough for the trie's four upper levels (4,369 branches) and the most recent nodes below; the
 * oldest tenth goes when it is full.
 */
const MAX_CACHED_NODES = 50_000
/**
 * Decoded leaves kept (by hash), apart from the branches so that they never push one out: ~300
 * bytes each, so ~15 MB at most. A read that proves an account absent ends on the leaf of another
 * account whose path it shares (a new account's key lands under one about every other time once
 * the trie has ~20,000 accounts), and the leaves a block writes are the ones the next blocks read:
 * without them, 12,233 of 20,000 transfers to new accounts read and decoded a leaf from LevelDB.
 */
const MAX_CACHED_LEAVES = 50_000

/** A cached node with the full hash it is stored under (the map's key is only its first 6 bytes). */
interface Cached {
  hash: Uint8Array
  node: Node
}

/**
 * Fast reads and batched writes on an `@ethereumjs/mpt` secure trie (the account trie), sharing its
 * node store. `MerklePatriciaTrie.put` walks, re-encodes, hashes and stores every node from the
 * root down for each key, so the upper nodes of a block with a thousand changed accounts are
 * rewritten a thousand times (and every intermediate version is stored for good: nothing is
 * pruned). {@link update} applies a block's changes in one pass over the sorted keys: each node on
 * a changed path is decoded once, built once and stored once. {@link get} reads through a cache
 * of decoded nodes (content-addressed, so never stale) instead of decoding every node on the path
 * again. Same roots and values as the trie's own put/del/get (tested against it).
 */
export class BatchTrie {
  /**
   * Decoded nodes by the first 6 bytes of their hash as a number: no hex string per node visited
   * (that conversion was most of a cached walk). A hit is checked against the full hash; two cached
   * hashes sharing 48 bits (about one in 10^10 at 50,000 nodes) only cost a read.
   */
  private readonly nodes = new Map<number, Cached>()
  /** Decoded leaves, keyed as {@link nodes} (see {@link MAX_CACHED_LEAVES}). */
  private readonly leaves = new Map<number, Cached>()
  /** Where new nodes are encoded: views of shared chunks, not an array each (see RlpArena). */
  private readonly arena = new RlpArena()

  constructor(private readonly trie: MerklePatriciaTrie) {}

  /** The value under `hashedKey` (32 bytes) in the trie's current root, or null. */
  async get(hashedKey: Uint8Array): Promise<Uint8Array | null> {
    const key = toNibbles(hashedKey)
    // Awaited only on a cache miss: an await per node would cost a microtask each.
    let next = this.resolve(this.trie.root())
    let node = next instanceof Promise ? await next : next
    let pos = 0
    while (node !== null) {
      if (node.length === 17) {
        if (pos === key.length) return nonEmpty(node[16] as Uint8Array)
        next = this.resolve(node[key[pos] as number] as RawNode)
        pos++
      } else {
        const { path, leaf } = decodePath(node[0] as Uint8Array)
        for (let i = 0; i < path.length; i++) if (key[pos + i] !== path[i]) return null
        pos += path.length
        if (leaf) return pos === key.length ? (node[1] as Uint8Array) : null
        next = this.resolve(node[1] as RawNode)
      }
      node = next instanceof Promise ? await next : next
    }
    return null
  }

  /**
   * Applies `changes` (32-byte hashed keys, distinct; a null value deletes) to the trie's current
   * root, writes the new nodes through the trie's node store and moves the trie to the new root.
   * With `slice`, timers and I/O get a turn between the subtries of the upper levels when it is
   * used up (the trie's root moves only at the end, so what reads it meanwhile reads the old one).
   */
  async update(changes: { key: Uint8Array; value: Uint8Array | null }[], slice?: TimeSlice): Promise<void> {
    if (changes.length === 0) return
    const items: Change[] = changes.map((c) => ({ key: toNibbles(c.key), value: c.value }))
    items.sort((a, b) => compareBytes(a.key, b.key))
    const writes: [Uint8Array, Uint8Array][] = []
    const root = await this.apply(await this.resolve(this.trie.root()), items, 0, items.length, 0, writes, slice)
    let rootHash = KECCAK256_RLP
    if (root !== null) {
      const encoded = this.arena.encode(root)
      rootHash = keccak256(encoded)
      writes.push([rootHash, encoded])
      this.remember(rootHash, root)
    }
    // Straight to the store under the trie's checkpoint layer (the chain's StateDB, or an eth_call
    // view's private map): nodes are content-addressed, so one written inside a checkpoint that is
    // later reverted is an unreferenced node, never a wrong one, and passing through the layer cost
    // two hex conversions and a merge per node.
    await this.trie
      .database()
      .db.batch(writes.map(([hash, encoded]) => ({ type: 'put', key: hexKey(hash), value: encoded })))
    this.trie.root(rootHash)
  }

  /** The node that replaces `node` once `items[lo..hi)` (sharing `depth` nibbles) are applied. */
  private async apply(
    node: Node | null,
    items: Change[],
    lo: number,
    hi: number,
    depth: number,
    writes: [Uint8Array, Uint8Array][],
    slice?: TimeSlice,
  ): Promise<Node | null> {
    if (node === null) return this.build(items.slice(lo, hi).filter(isPut), depth, writes)
    if (node.length === 2) {
      const { path, leaf } = decodePath(node[0] as Uint8Array)
      if (leaf) {
        // Merge the existing leaf with the changes, then build the subtree afresh.
        const key = new Uint8Array(depth + path.length)
        key.set((items[lo] as Change).key.subarray(0, depth))
        key.set(path, depth)
        const merged = items.slice(lo, hi)
        if (!merged.some((c) => compareBytes(c.key, key) === 0)) {
          merged.push({ key, value: node[1] as Uint8Array })
          merged.sort((a, b) => compareBytes(a.key, b.key))
        }
        return this.build(merged.filter(isPut), depth, writes)
      }
      // An extension is a branch with one child (and the rest of its path below): expand it.
      const branch: RawNode[] = new Array(17).fill(EMPTY)
      branch[path[0] as number] =
        path.length === 1 ? (node[1] as RawNode) : [encodePath(path.subarray(1), false), node[1] as RawNode]
      return this.apply(branch, items, lo, hi, depth, writes, slice)
    }
    const branch = node.slice()
    let i = lo
    while (i < hi) {
      const nibble = (items[i] as Change).key[depth] as number
      let j = i + 1
      while (j < hi && (items[j] as Change).key[depth] === nibble) j++
      // Upper levels only: a subtrie two levels down holds a 256th of the changes.
      if (slice !== undefined && depth < 3) await slice.check()
      const child = await this.apply(
        await this.resolve(branch[nibble] as RawNode),
        items,
        i,
        j,
        depth + 1,
        writes,
        depth < 3 ? slice : undefined,
      )
      branch[nibble] = child === null ? EMPTY : child
      i = j
    }
    // Children built here (or expanded above) are structures: store them, or inline the small ones.
    let only = -1
    let onlyNode: Node | undefined // the last child built in this pass (not stored yet)
    let count = 0
    for (let n = 0; n < 16; n++) {
      const slot = branch[n] as RawNode
      const built = Array.isArray(slot)
      if (built) branch[n] = this.ref(slot, writes)
      if ((branch[n] as Uint8Array | RawNode[]).length !== 0) {
        count++
        only = n
        onlyNode = built ? slot : undefined
      }
    }
    const value = branch[16] as Uint8Array
    if (value.length !== 0) count++
    if (count === 0) return null
    if (count > 1) return branch
    if (only === -1) return [encodePath(new Uint8Array(), true), value]
    // A branch left with one child folds into its parent's path.
    const child = onlyNode ?? ((await this.resolve(branch[only] as RawNode)) as Node)
    if (child.length === 17) return [encodePath(Uint8Array.of(only), false), branch[only] as RawNode]
    const { path, leaf } = decodePath(child[0] as Uint8Array)
    const joined = new Uint8Array(path.length + 1)
    joined[0] = only
    joined.set(path, 1)
    return [encodePath(joined, leaf), child[1] as RawNode]
  }

  /** A new subtree of leaves for `items` (sorted, distinct, all puts) sharing `depth` nibbles. */
  private build(items: Change[], depth: number, writes: [Uint8Array, Uint8Array][]): Node | null {
    if (items.length === 0) return null
    const first = items[0] as Change
    if (items.length === 1) return [encodePath(first.key.subarray(depth), true), first.value as Uint8Array]
    const last = (items[items.length - 1] as Change).key
    let shared = depth
    while (shared < first.key.length && first.key[shared] === last[shared]) shared++
    if (shared > depth) {
      const child = this.build(items, shared, writes) as Node
      return [encodePath(first.key.subarray(depth, shared), false), this.ref(child, writes)]
    }
    const branch: RawNode[] = new Array(17).fill(EMPTY)
    let i = 0
    if (first.key.length === depth) {
      branch[16] = first.value as Uint8Array
      i++
    }
    while (i < items.length) {
      const nibble = (items[i] as Change).key[depth] as number
      let j = i + 1
      while (j < items.length && (items[j] as Change).key[depth] === nibble) j++
      branch[nibble] = this.ref(this.build(items.slice(i, j), depth + 1, writes) as Node, writes)
      i = j
    }
    return branch
  }

  /** How a parent refers to `node`: inline under 32 encoded bytes, else by hash (and stored). */
  private ref(node: Node, writes: [Uint8Array, Uint8Array][]): RawNode {
    const encoded = this.arena.encode(node)
    if (encoded.length < 32) return node
    const hash = keccak256(encoded)
    writes.push([hash, encoded])
    this.remember(hash, node)
    return hash
  }

  /** The node a reference points to: inline, by hash (cached, else read and decoded), or none. */
  private resolve(ref: RawNode): Node | null | Promise<Node | null> {
    if (Array.isArray(ref)) return ref
    if (ref.length === 0) return null
    if (ref.length !== 32) throw corrupt(`a trie reference of ${ref.length} bytes`)
    // Synchronous on a cache hit: most nodes on a path are, and an await per node costs.
    const key = cacheKey(ref)
    const cached = this.nodes.get(key) ?? this.leaves.get(key)
    return cached !== undefined && equal(cached.hash, ref) ? cached.node : this.load(ref)
  }

  private async load(ref: Uint8Array): Promise<Node | null> {
    if (equal(ref, KECCAK256_RLP)) return null
    // Account-trie nodes are only written by `update`, straight to the store: read them there.
    const raw = await this.trie.database().db.get(hexKey(ref))
    if (raw === undefined) throw corrupt(`trie node ${bytesToHex(ref)} is missing`)
    const node = RLP.decode(raw) as Node
    this.remember(ref, node)
    return node
  }

  /** Keeps a decoded node, a leaf or not in a map of its own; the oldest tenth goes when one is full. */
  private remember(hash: Uint8Array, node: Node): void {
    const leaf = isLeaf(node)
    const map = leaf ? this.leaves : this.nodes
    const max = leaf ? MAX_CACHED_LEAVES : MAX_CACHED_NODES
    if (map.size >= max) {
      let drop = max / 10
      for (const k of map.keys()) {
        map.delete(k)
        if (--drop === 0) break
      }
    }
    map.set(cacheKey(hash), { hash, node })
  }
}

/** A node's key in the trie's store: its hash as unprefixed hex (as @ethereumjs/mpt keys them). */
function hexKey(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')
}

/** The first 6 bytes of a 32-byte hash as an exact integer (below 2^48). */
function cacheKey(hash: Uint8Array): number {
  return (
    (hash[0] as number) * 0x10000000000 +
    (hash[1] as number) * 0x100000000 +
    (hash[2] as number) * 0x1000000 +
    (((hash[3] as number) << 16) | ((hash[4] as number) << 8) | (hash[5] as number))
  )
}

function isLeaf(node: Node): boolean {
  return node.length === 2 && ((node[0] as Uint8Array)[0] as number) >= 0x20
}

function isPut(c: Change): boolean {
  return c.value !== null
}

function nonEmpty(v: Uint8Array): Uint8Array | null {
  return v.length === 0 ? null : v
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0
}

function corrupt(what: string): CairnError {
  return new CairnError(ChainErrorCode.CORRUPT, `the state trie is damaged: ${what}`, {
    hint: 'run `cairn db check`; restore from a backup if it reports errors',
  })
}
