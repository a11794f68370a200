import { equalsBytes, KECCAK256_RLP } from '@ethereumjs/util'
import { LRUCache } from 'lru-cache'

/** Bytes of nodes kept by default (encoded: ~530 for a branch, ~110 for an account leaf). */
const DEFAULT_CACHED_BYTES = 8 * 1024 * 1024
/** What an entry costs beyond its bytes: the array, its buffer, the key string and the LRU's slot. */
const ENTRY_OVERHEAD = 160

/**
 * Reads one key of a Merkle Patricia trie synchronously, straight from the node store: a walk
 * from the root by the key's nibbles, with no promise per node (`@ethereumjs/mpt`'s `findPath`
 * walks through its asynchronous walk controller, an RLP decode and a copy per node: for a view
 * call's one absent slot that was a fifth of the call).
 *
 * The walk reads each node's RLP where it lies: it skips a branch's items up to the nibble's child
 * and compares a leaf's or extension's path nibble by nibble, so a node costs no decoding (a
 * decoded branch was an array and 17 arrays of its items) and nothing is allocated but the value
 * returned. Nodes are content-addressed, so a node kept by its hash is always right: the most
 * recently used are kept, encoded (a third of a decoded branch's memory), up to `cachedBytes`.
 */
export class TrieReader {
  private readonly nodes: LRUCache<string, Uint8Array>
  /** Start offsets of the current node's items (a branch has 17), reused from walk to walk. */
  private readonly items = new Int32Array(18)

  /** `node(hash)`: the stored RLP of the node with that hash, or undefined when it is not stored. */
  constructor(
    private readonly node: (hash: Uint8Array) => Uint8Array | undefined,
    opts: { cachedBytes?: number } = {},
  ) {
    this.nodes = new LRUCache({
      maxSize: opts.cachedBytes ?? DEFAULT_CACHED_BYTES,
      sizeCalculation: (raw) => raw.length + ENTRY_OVERHEAD,
    })
  }

  /**
   * The value stored at `key` (its leaf value, as stored; a copy) under `root`, `null` when the key
   * is absent, or `undefined` when a node on the way is not in the store or not a trie node (the
   * caller reads it another way, which reports it).
   */
  get(root: Uint8Array, key: Uint8Array): Uint8Array | null | undefined {
    if (equalsBytes(root, KECCAK256_RLP)) return null
    let raw = this.load(root)
    let at = 0 // where the current node's RLP list starts in `raw` (not 0 for an embedded node)
    let pos = 0
    const nibbles = key.length * 2
    const items = this.items
    while (raw !== undefined) {
      const count = listItems(raw, at, items)
      let next: number // the start of the item to follow
      if (count === 17) {
        if (pos === nibbles) return storedValue(raw, items[16] as number)
        next = items[nibbleOf(key, pos++)] as number
      } else if (count === 2) {
        const p = items[0] as number
        const b = raw[p] as number
        if (b >= 0xc0) return undefined // a path is a string
        const start = contentStart(raw, p)
        const end = itemEnd(raw, p)
        if (start >= end) return undefined // a path has its flag nibble
        const flag = (raw[start] as number) >> 4
        const odd = flag & 1
        const length = (end - start - 1) * 2 + odd
        if (flag > 3) return undefined // not a hex-prefix flag
        if (length > nibbles - pos) return null
        if (odd && ((raw[start] as number) & 15) !== nibbleOf(key, pos++)) return null
        for (let i = start + 1; i < end; i++) {
          const byte = raw[i] as number
          if (byte >> 4 !== nibbleOf(key, pos) || (byte & 15) !== nibbleOf(key, pos + 1)) return null
          pos += 2
        }
        const second = items[1] as number
        if (flag >= 2) return pos === nibbles ? storedValue(raw, second) : null
        next = second
      } else {
        return undefined // not a node: let the caller's reader report it
      }
      const b = raw[next] as number
      if (b >= 0xc0) {
        at = next // embedded (its RLP is shorter than 32 bytes)
      } else if (b === 0x80) {
        return null
      } else if (b === 0xa0) {
        raw = this.load(raw.subarray(next + 1, next + 33))
        at = 0
      } else {
        return undefined // a child is a hash or an embedded node
      }
    }
    return undefined
  }

  private load(hash: Uint8Array): Uint8Array | undefined {
    const id = Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('latin1')
    let raw = this.nodes.get(id)
    if (raw === undefined) {
      const stored = this.node(hash)
      if (stored === undefined || stored.length === 0) return undefined
      // A copy of its own: a store's array may be a view of a larger, reused buffer.
      raw = stored.slice()
      this.nodes.set(id, raw)
    }
    return raw
  }
}

function nibbleOf(key: Uint8Array, i: number): number {
  return ((key[i >> 1] as number) >> (i & 1 ? 0 : 4)) & 15
}

/**
 * Writes the start of each item of the RLP list at `at` into `out` (at most 18) and returns how
 * many there are; -1 when `at` holds no list or the list runs past the bytes.
 */
function listItems(raw: Uint8Array, at: number, out: Int32Array): number {
  const b = raw[at] as number
  if (b === undefined || b < 0xc0) return -1
  let p = at + 1
  let length = b - 0xc0
  if (b > 0xf7) {
    const ll = b - 0xf7
    length = readLength(raw, p, ll)
    p += ll
  }
  const end = p + length
  if (end > raw.length) return -1
  let count = 0
  while (p < end) {
    if (count === out.length) return -1
    out[count++] = p
    p = itemEnd(raw, p)
  }
  return p === end ? count : -1
}

/** Where the content of the RLP string starting at `p` starts (a byte under 0x80 is its own content). */
function contentStart(raw: Uint8Array, p: number): number {
  const b = raw[p] as number
  return b < 0x80 ? p : p + 1 + (b > 0xb7 ? b - 0xb7 : 0)
}

/** The offset just past the RLP item (string or list) starting at `p`. */
function itemEnd(raw: Uint8Array, p: number): number {
  const b = raw[p] as number
  if (b < 0x80) return p + 1
  if (b <= 0xb7) return p + 1 + (b - 0x80)
  if (b <= 0xbf) return p + 1 + (b - 0xb7) + readLength(raw, p + 1, b - 0xb7)
  if (b <= 0xf7) return p + 1 + (b - 0xc0)
  return p + 1 + (b - 0xf7) + readLength(raw, p + 1, b - 0xf7)
}

/** A big-endian length of `ll` bytes (RLP's long forms; at most 4 bytes here, or past any node). */
function readLength(raw: Uint8Array, p: number, ll: number): number {
  if (ll > 4) return Number.MAX_SAFE_INTEGER
  let n = 0
  for (let i = 0; i < ll; i++) n = n * 256 + (raw[p + i] as number)
  return n
}

/** A copy of the string item at `p` (a leaf's or a branch's value), null when empty; undefined for a list. */
function storedValue(raw: Uint8Array, p: number): Uint8Array | null | undefined {
  const b = raw[p] as number
  if (b >= 0xc0) return undefined
  const start = contentStart(raw, p)
  const end = itemEnd(raw, p)
  return end > start ? raw.slice(start, end) : null
}
