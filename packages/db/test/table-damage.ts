// Damages LevelDB table files the way a failing disk does — one byte every 64 KiB — at bytes that
// LevelDB parses without a checksum: the key length of the first entry of the data block under each
// 64 KiB mark. Unverified, such a block reads as a key shorter than LevelDB's 8-byte internal key
// suffix and LevelDB aborts the process (`ExtractUserKey: Assertion internal_key.size() >= 8`);
// verified, its CRC no longer matches. The blocks are found from the file itself (table format:
// github.com/google/leveldb doc/table_format.md): each block is its contents, a type byte and the
// masked CRC32C of both, laid end to end from offset 0; the footer names the metaindex block, after
// the data blocks and the filter block.
import { readFileSync, writeFileSync } from 'node:fs'

const FOOTER_BYTES = 48
const TRAILER_BYTES = 5
/** One byte every this many. */
export const DAMAGE_STRIDE = 64 * 1024

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()
const step = (crc: number, byte: number) => ((CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)) >>> 0
/** LevelDB's masked CRC (util/crc32c.h Mask). */
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0

function varint(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0
  let shift = 0
  for (let i = at; i < b.length; i++) {
    const byte = b[i] as number
    v += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return [v, i + 1]
    shift += 7
  }
  throw new Error(`truncated varint at ${at}`)
}

export interface TableBlock {
  /** Offset of the block's contents in the file. */
  offset: number
  size: number
  /** 0: stored as is; 1: Snappy. */
  type: number
}

/** The block that starts at `offset`: its contents end where a type byte and a matching CRC follow. */
function blockAt(b: Uint8Array, offset: number, limit: number): TableBlock {
  let crc = 0xffffffff
  for (let end = offset; end + TRAILER_BYTES <= limit; end++) {
    const type = b[end] as number
    if (type <= 1) {
      const stored = Buffer.from(b.buffer, b.byteOffset + end + 1, 4).readUInt32LE(0)
      if (mask((step(crc, type) ^ 0xffffffff) >>> 0) === stored) return { offset, size: end - offset, type }
    }
    crc = step(crc, b[end] as number)
  }
  throw new Error(`no block starts at ${offset}`)
}

/** The data blocks of a table, in file order. */
export function dataBlocks(b: Uint8Array): TableBlock[] {
  const [metaindex] = varint(b, b.length - FOOTER_BYTES)
  const blocks: TableBlock[] = []
  for (let at = 0; at < metaindex; ) {
    const block = blockAt(b, at, metaindex)
    blocks.push(block)
    at = block.offset + block.size + TRAILER_BYTES
  }
  return blocks.slice(0, -1) // the last one before the metaindex is the filter block
}

/** The user keys of an uncompressed data block (its internal keys less their 8-byte suffix). */
export function blockKeys(b: Uint8Array, block: TableBlock): Uint8Array[] {
  const c = b.subarray(block.offset, block.offset + block.size)
  const restarts = Buffer.from(c.buffer, c.byteOffset + c.length - 4, 4).readUInt32LE(0)
  const entriesEnd = c.length - 4 - 4 * restarts
  const keys: Uint8Array[] = []
  let prev = new Uint8Array(0)
  for (let at = 0; at < entriesEnd; ) {
    const [shared, a] = varint(c, at)
    const [unshared, v] = varint(c, a)
    const [valueLength, k] = varint(c, v)
    const key = new Uint8Array(shared + unshared)
    key.set(prev.subarray(0, shared))
    key.set(c.subarray(k, k + unshared), shared)
    keys.push(key.subarray(0, key.length - 8))
    prev = key
    at = k + unshared + valueLength
  }
  return keys
}

export interface Damage {
  file: string
  block: TableBlock
  /** The user keys the damaged block held (empty for a compressed block, damaged where the mark fell). */
  keys: Uint8Array[]
}

export interface DamageOptions {
  /** Which uncompressed blocks may be damaged, by the user keys they hold (default: any). */
  pick?: (keys: Uint8Array[]) => boolean
  /** Where no such block follows a mark, invert the byte at the mark when it lies in a compressed data block (default true). */
  compressed?: boolean
}

/**
 * Changes one byte per 64 KiB of the table at `file`: for each mark, the first uncompressed data
 * block at or after it (before the next mark) that `pick` accepts gets its first entry's key
 * length set to 1; without one, the byte at the mark is inverted if it lies in a compressed data
 * block (and `compressed`). Returns what it damaged.
 */
export function damageTable(file: string, opts: DamageOptions = {}): Damage[] {
  const pick = opts.pick ?? (() => true)
  const b = new Uint8Array(readFileSync(file))
  const blocks = dataBlocks(b)
  const damaged: Damage[] = []
  for (let mark = 0; mark < b.length; mark += DAMAGE_STRIDE) {
    const window = blocks.filter((x) => x.offset + x.size > mark && x.offset < mark + DAMAGE_STRIDE)
    const target = window.find((x) => x.type === 0 && x.offset >= mark && pick(blockKeys(b, x)))
    if (target) {
      const keys = blockKeys(b, target)
      const [shared, at] = varint(b, target.offset)
      const [unshared] = varint(b, at)
      if (shared !== 0 || unshared <= 8 || (b[at] as number) >= 0x80) continue
      b[at] = 1
      damaged.push({ file, block: target, keys })
      continue
    }
    const under = window.find((x) => x.offset <= mark && mark < x.offset + x.size)
    if (under && under.type === 1 && opts.compressed !== false) {
      b[mark] = (b[mark] as number) ^ 0xff
      damaged.push({ file, block: under, keys: [] })
    }
  }
  writeFileSync(file, b)
  return damaged
}
