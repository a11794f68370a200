import { RLP } from '@ethereumjs/rlp'
import { equalsBytes, KECCAK256_RLP } from '@ethereumjs/util'
import { LRUCache } from 'lru-cache'
import { decodePath } from '../trie-path.ts'

/** A decoded trie node: a branch (17 items), or a leaf or extension (hex-prefix path, then value or child). */
type Node = (Uint8Array | Node)[]

/**
 * Reads one key of a Merkle Patricia trie synchronously, straight from the node store: a walk
 * from the root by the key's nibbles, with no promise per node (`@ethereumjs/mpt`'s `findPath`
 * walks through its asynchronous walk controller, an RLP decode and a copy per node: for a view
 * call's one absent slot that was a fifth of the call). Nodes are content-addressed, so a decoded
 * node kept by its hash is always right: the most recently used are kept decoded.
 */
export class TrieReader {
  private readonly decoded: LRUCache<string, Node>

  /** `node(hash)`: the stored RLP of the node with that hash, or undefined when it is not stored. */
  constructor(
    private readonly node: (hash: Uint8Array) => Uint8Array | undefined,
    opts: { cachedNodes?: number } = {},
  ) {
    this.decoded = new LRUCache({ max: opts.cachedNodes ?? 4096 })
  }

  /**
   * The value stored at `key` (its leaf value, as stored) under `root`, `null` when the key is
   * absent, or `undefined` when a node on the way is not in the store (the caller reads it
   * another way).
   */
  get(root: Uint8Array, key: Uint8Array): Uint8Array | null | undefined {
    if (equalsBytes(root, KECCAK256_RLP)) return null
    let node = this.load(root)
    let pos = 0
    const nibbles = key.length * 2
    const nibble = (i: number) => ((key[i >> 1] as number) >> (i & 1 ? 0 : 4)) & 15
    while (node !== undefined) {
      let next: Uint8Array | Node
      if (node.length === 17) {
        if (pos === nibbles) return storedValue(node[16] as Uint8Array)
        next = node[nibble(pos++)] as Uint8Array | Node
      } else if (node.length === 2) {
        const { path, leaf } = decodePath(node[0] as Uint8Array)
        if (path.length > nibbles - pos) return null
        for (let i = 0; i < path.length; i++) if (path[i] !== nibble(pos + i)) return null
        pos += path.length
        if (leaf) return pos === nibbles ? storedValue(node[1] as Uint8Array) : null
        next = node[1] as Uint8Array | Node
      } else {
        return undefined // not a node: let the caller's reader report it
      }
      if (Array.isArray(next))
        node = next // embedded (its RLP is shorter than 32 bytes)
      else if (next.length === 0) return null
      else node = this.load(next)
    }
    return undefined
  }

  private load(hash: Uint8Array): Node | undefined {
    const id = Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('latin1')
    let n = this.decoded.get(id)
    if (n === undefined) {
      const raw = this.node(hash)
      if (raw === undefined) return undefined
      n = RLP.decode(raw) as Node
      this.decoded.set(id, n)
    }
    return n
  }
}

function storedValue(v: Uint8Array): Uint8Array | null {
  return v.length === 0 ? null : v
}
