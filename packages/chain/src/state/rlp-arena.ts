import { RLP } from '@ethereumjs/rlp'

/** An RLP item: a byte string, or a list of items. */
export type RlpItem = Uint8Array | RlpItem[]

/** Encodings longer than this (or than a chunk) get an array of their own: they would waste most of one. */
const MAX_IN_CHUNK = 4096

/**
 * RLP encodings written back to back into large chunks, each returned as a view (`subarray`) of
 * its chunk. V8 keeps a typed array of up to 64 bytes on its heap, but gives a longer one a backing
 * store of its own (allocated, zeroed and later swept by the GC): ~1.2 µs for the 436 bytes of a
 * branch node on the 2-vCPU test machine, against ~40 ns for 48 bytes — more than the encoding
 * itself (`@ethereumjs/rlp` took 1.4–2.3 µs a branch, this 0.5 µs; docs/performance-history.md, eleventh
 * session). Same bytes as `RLP.encode`.
 *
 * Two ways to use it. Kept (the default): a chunk is never written again once full, so a view
 * stays valid for good and keeps its chunk alive while it is referenced (a trie update's new
 * nodes, stored with the block). Scratch (`scratch: true`): a view is valid only until the next
 * `encode`, which may write over it (a root's nodes, hashed at once and dropped): one chunk serves
 * every encoding.
 */
export class RlpArena {
  private chunk: Uint8Array
  private at = 0
  private readonly chunkSize: number
  private readonly scratch: boolean

  constructor(opts: { chunkSize?: number; scratch?: boolean } = {}) {
    this.chunkSize = opts.chunkSize ?? 64 * 1024
    this.scratch = opts.scratch ?? false
    this.chunk = new Uint8Array(this.chunkSize)
  }

  /** The RLP of `item`, after one `prefix` byte if given (an EIP-2718 type: `type ‖ rlp`). */
  encode(item: RlpItem, prefix?: number): Uint8Array {
    const length = encodedLength(item) + (prefix === undefined ? 0 : 1)
    if (length > MAX_IN_CHUNK || length > this.chunkSize) {
      const rlp = RLP.encode(item)
      if (prefix === undefined) return rlp
      const out = new Uint8Array(length)
      out[0] = prefix
      out.set(rlp, 1)
      return out
    }
    if (this.at + length > this.chunk.length) {
      if (!this.scratch) this.chunk = new Uint8Array(this.chunkSize)
      this.at = 0
    }
    const start = this.at
    if (prefix !== undefined) this.chunk[this.at++] = prefix
    this.at = write(item, this.chunk, this.at)
    return this.chunk.subarray(start, this.at)
  }
}

/** The length of `item`'s RLP encoding. */
export function encodedLength(item: RlpItem): number {
  if (!Array.isArray(item)) {
    const n = item.length
    return n === 1 && (item[0] as number) < 0x80 ? 1 : headerLength(n) + n
  }
  let payload = 0
  for (let i = 0; i < item.length; i++) payload += encodedLength(item[i] as RlpItem)
  return headerLength(payload) + payload
}

/** Writes `item`'s RLP encoding at `pos` (the room is there); returns where it ends. */
function write(item: RlpItem, out: Uint8Array, pos: number): number {
  if (!Array.isArray(item)) {
    const n = item.length
    if (n === 1 && (item[0] as number) < 0x80) {
      out[pos] = item[0] as number
      return pos + 1
    }
    pos = writeHeader(out, pos, n, 0x80)
    out.set(item, pos)
    return pos + n
  }
  let payload = 0
  for (let i = 0; i < item.length; i++) payload += encodedLength(item[i] as RlpItem)
  pos = writeHeader(out, pos, payload, 0xc0)
  for (let i = 0; i < item.length; i++) pos = write(item[i] as RlpItem, out, pos)
  return pos
}

function headerLength(length: number): number {
  return length < 56 ? 1 : 1 + lengthOfLength(length)
}

function lengthOfLength(length: number): number {
  let n = 1
  while (length >= 256) {
    length = Math.floor(length / 256)
    n++
  }
  return n
}

function writeHeader(out: Uint8Array, pos: number, length: number, offset: number): number {
  if (length < 56) {
    out[pos] = offset + length
    return pos + 1
  }
  const n = lengthOfLength(length)
  out[pos] = offset + 55 + n
  for (let i = n; i >= 1; i--) {
    out[pos + i] = length % 256
    length = Math.floor(length / 256)
  }
  return pos + n + 1
}
