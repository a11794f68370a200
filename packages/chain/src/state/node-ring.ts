/** Bytes before each entry's node: its 32-byte hash and its length (u32, little-endian). */
const HEADER = 36
/** A length that marks the rest of the buffer as unused (the next entry did not fit; see set). */
const GAP = 0xffffffff
/** Nodes larger than this are not kept (trie nodes are ≤ 532 bytes; contract code is not a node). */
export const MAX_RING_NODE_BYTES = 1024

/**
 * Recently used state-trie nodes by hash, in one fixed buffer: a clean cache between the tries
 * and LevelDB, bounded in bytes, that the garbage collector never walks.
 *
 * The tries' decoded-node caches (`BatchTrie`) hold a few tens of thousands of nodes as JavaScript
 * objects (a decoded branch is ~1.5 KB of them). Past that, a node read from LevelDB costs
 * 5–20 µs (`getSync`: the memtable, each level's filter, a data block found and copied), and
 * once a chain holds a few hundred thousand accounts, most of a transfer's recipient lookups
 * miss those caches. This keeps the encoded nodes themselves, ~600 bytes for a branch and ~140 for
 * an account leaf, as entries appended to a ring: `[hash | length | node]`. A map from the hash's
 * first 30 bits (a small integer: no string or heap number per entry) to the entry's position
 * finds them; the full hash is compared on every hit.
 *
 * Writing past the end wraps to the start and drops the oldest entries it overwrites (their map
 * entries too, so the map never outgrows the ring). An entry read or set again when it is among
 * the next quarter to be overwritten is written again at the head, so what keeps being used stays
 * (freecache's policy, in one ring).
 *
 * Only content-addressed, immutable nodes go in: a hash always names the same bytes, so an entry
 * is never stale, only gone. `get` returns a copy (callers keep views of what they decode, and the
 * ring's bytes are overwritten later).
 */
export class NodeRing {
  private readonly buf: Uint8Array
  private readonly view: DataView
  /** Position of each entry by its key (see {@link ringKey}); positions only grow. */
  private readonly index = new Map<number, number>()
  /** Where the next entry goes (a position: the buffer offset is `head % capacity`). */
  private head = 0
  /** The oldest entry still held. */
  private tail = 0
  hits = 0
  misses = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 4 * (HEADER + MAX_RING_NODE_BYTES)) {
      throw new RangeError(`a node ring needs at least ${4 * (HEADER + MAX_RING_NODE_BYTES)} bytes, got ${capacity}`)
    }
    this.buf = new Uint8Array(capacity)
    this.view = new DataView(this.buf.buffer)
  }

  /** Entries held. */
  get size(): number {
    return this.index.size
  }

  /** Bytes of the ring in use (entries and their headers). */
  get usedBytes(): number {
    return this.head - this.tail
  }

  /** A copy of the node with this 32-byte hash, or undefined. */
  get(hash: Uint8Array): Uint8Array | undefined {
    const pos = this.find(hash)
    if (pos < 0) {
      this.misses++
      return undefined
    }
    this.hits++
    const off = pos % this.capacity
    const len = this.view.getUint32(off + 32, true)
    const node = this.buf.slice(off + HEADER, off + HEADER + len)
    if (this.aboutToGo(pos)) this.append(hash, node)
    return node
  }

  /** True when the node with this hash is held (no copy made, nothing moved). */
  has(hash: Uint8Array): boolean {
    return this.find(hash) >= 0
  }

  /**
   * Keeps `node` under its 32-byte `hash`. A node too large is skipped; a node already held stays
   * where it is, unless it is about to be overwritten: then it is written again at the head, as a
   * read would write it (a block that writes it again uses it).
   */
  set(hash: Uint8Array, node: Uint8Array): void {
    if (node.length > MAX_RING_NODE_BYTES) return
    const pos = this.find(hash)
    if (pos >= 0 && !this.aboutToGo(pos)) return
    this.append(hash, node)
  }

  /** True for an entry among the next quarter of the ring to be overwritten (more than 3/4 of it behind the head). */
  private aboutToGo(pos: number): boolean {
    return this.head - pos > (3 * this.capacity) / 4
  }

  /** As {@link set}, with the hash as 64 hex digits (the tries' node-store keys); other keys are skipped. */
  setHex(hex: string, node: Uint8Array): void {
    if (hex.length !== 64 || node.length > MAX_RING_NODE_BYTES) return
    // Parsed into a scratch array: no array per key.
    const scratch = this.hexScratch
    for (let i = 0; i < 32; i++) {
      const hi = HEX_VALUE[hex.charCodeAt(2 * i) & 0x7f] as number
      const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1) & 0x7f] as number
      if ((hi | lo) < 0) return
      scratch[i] = (hi << 4) | lo
    }
    this.set(scratch, node)
  }

  private readonly hexScratch = new Uint8Array(32)

  /** The position of the entry with this hash, or -1 when it is not held. */
  private find(hash: Uint8Array): number {
    const pos = this.index.get(ringKey(hash, 0))
    if (pos === undefined) return -1
    const off = pos % this.capacity
    for (let i = 0; i < 32; i++) if (this.buf[off + i] !== hash[i]) return -1
    return pos
  }

  private append(hash: Uint8Array, node: Uint8Array): void {
    const size = HEADER + node.length
    const cap = this.capacity
    let off = this.head % cap
    if (off + size > cap) {
      // Does not fit before the end: mark the rest unused (when a header fits there) and wrap.
      this.evictUntil(this.head + (cap - off))
      if (cap - off >= HEADER) this.view.setUint32(off + 32, GAP, true)
      this.head += cap - off
      off = 0
    }
    this.evictUntil(this.head + size)
    const buf = this.buf
    for (let i = 0; i < 32; i++) buf[off + i] = hash[i] as number
    this.view.setUint32(off + 32, node.length, true)
    buf.set(node, off + HEADER)
    this.index.set(ringKey(hash, 0), this.head)
    this.head += size
  }

  /**
   * @internal The entries from the oldest to the head, as `evictUntil` walks them: their count
   * (an entry written again counts each time); -1 when the walk does not end at the head.
   */
  walk(): number {
    const cap = this.capacity
    let count = 0
    let pos = this.tail
    while (pos < this.head) {
      const off = pos % cap
      const left = cap - off
      const len = left >= HEADER ? this.view.getUint32(off + 32, true) : GAP
      if (len === GAP) pos += left
      else {
        pos += HEADER + len
        count++
      }
    }
    return pos === this.head ? count : -1
  }

  /** Drops the oldest entries until the ring has room to write up to position `end`. */
  private evictUntil(end: number): void {
    const cap = this.capacity
    while (end - this.tail > cap) {
      const off = this.tail % cap
      const left = cap - off
      const len = left >= HEADER ? this.view.getUint32(off + 32, true) : GAP
      if (len === GAP) {
        this.tail += left
        continue
      }
      const key = ringKey(this.buf, off)
      if (this.index.get(key) === this.tail) this.index.delete(key)
      this.tail += HEADER + len
    }
  }
}

/**
 * The map key of a hash: its first 30 bits, a small integer (V8 keeps it unboxed: no heap number
 * per entry). A new hash shares them with one already held about 3 times in 10,000 at 300,000
 * entries; the two then share one map entry, and the older is only a miss.
 */
function ringKey(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) << 22) |
    ((bytes[at + 1] as number) << 14) |
    ((bytes[at + 2] as number) << 6) |
    ((bytes[at + 3] as number) >> 2)
  )
}

/** Each ASCII code's hex digit value, -1 for a code that is not one. */
const HEX_VALUE = (() => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) table[48 + i] = i
  for (let i = 0; i < 6; i++) {
    table[97 + i] = 10 + i
    table[65 + i] = 10 + i
  }
  return table
})()
