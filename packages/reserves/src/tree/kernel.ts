import { hash } from 'node:crypto'
import { keccak256 } from '@cairn/crypto'
import { TAG_LEAF, TAG_NODE, TAG_PADDING, TAG_USER } from '../verifier/encoding.ts'
import type { HashFn, HashName } from '../verifier/hash.ts'
import { U128_BYTES } from '../verifier/u128.ts'
import { type ColumnPage, PAGE_BITS, PAGE_MASK, type UserColumns } from './columns.ts'

/** Hashes `data` and writes the 32-byte digest into `out` at `offset`. */
export type DigestInto = (data: Uint8Array, out: Uint8Array, offset: number) => void

/**
 * The digest for a proof's `hash` name: OpenSSL SHA-256 through `crypto.hash` (one call, no
 * Hash object, latin1 output), Keccak-256 through @cairn/crypto (hash-wasm once `initCrypto()` ran, else noble).
 * `fn` overrides it (test vectors use the portable implementation).
 */
export function digestFor(name: HashName, fn?: HashFn): DigestInto {
  if (fn) return (d, out, o) => out.set(fn(d), o)
  if (name === 'sha256')
    // A latin1 string is 32 one-byte chars on the V8 heap: no ArrayBuffer per digest (2.5x less CPU).
    return (d, out, o) => {
      const s = hash('sha256', d, 'binary')
      for (let i = 0; i < 32; i++) out[o + i] = s.charCodeAt(i)
    }
  return (d, out, o) => out.set(keccak256(d), o)
}

/** A digest as a plain hash function (a new 32-byte array per call), for the few nodes an update hashes. */
export function hashFnOf(digest: DigestInto): HashFn {
  return (d) => {
    const out = new Uint8Array(32)
    digest(d, out, 0)
    return out
  }
}

/** One level (or a slice of one): 32-byte hashes and `16 × k`-byte sums, node by node. */
export interface Level {
  hashes: Uint8Array
  balances: Uint8Array
}

/** What the leaves are made of: who sits where, and 32 random bytes per place. */
export interface LeafSource {
  cols: UserColumns
  /** Leaf index → user index, or -1 for a padding leaf. */
  slots: Int32Array
  /** 32 bytes per leaf: the user's salt, or the padding preimage. */
  random: Uint8Array
}

function copy(src: Uint8Array, s: number, dst: Uint8Array, d: number, n: number): void {
  for (let i = 0; i < n; i++) dst[d + i] = src[s + i] as number
}

const view = (a: Uint8Array) => new DataView(a.buffer, a.byteOffset, a.byteLength)

/** A word view of a level or page buffer (all start 4-aligned and hold whole 16-byte slots). */
function words(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2)
}

/**
 * A preimage scratch buffer whose byte 1 (just after the tag) is 4-aligned, so the 32-byte hashes
 * and 16-byte sums that follow the tag are copied as 32-bit words.
 */
function scratch(tag: number, bytes: number): { pre: Uint8Array; pre32: Uint32Array } {
  const ab = new ArrayBuffer(4 + bytes)
  const pre = new Uint8Array(ab, 3, 1 + bytes)
  pre[0] = tag
  return { pre, pre32: new Uint32Array(ab, 4, bytes >>> 2) }
}

/**
 * Hashes leaves and internal nodes straight from and into flat buffers: no object or buffer per
 * node, only reused preimage scratch buffers filled word by word. Sums are added as four 32-bit
 * words per currency; a carry out of the top word is an overflow (≥ 2^128) and refuses the tree.
 */
export class TreeHasher {
  private readonly w: number
  private readonly w4: number
  private readonly node: { pre: Uint8Array; pre32: Uint32Array }
  private readonly leaf: { pre: Uint8Array; pre32: Uint32Array }
  private readonly pad: { pre: Uint8Array; pre32: Uint32Array }
  private readonly userPre: ({ pre: Uint8Array; pre32: Uint32Array } | undefined)[] = []
  private pagesOf: UserColumns | null = null
  private pageWords: Uint32Array[] = []

  constructor(
    private readonly digest: DigestInto,
    private readonly k: number,
  ) {
    this.w = k * U128_BYTES
    this.w4 = this.w >>> 2
    this.node = scratch(TAG_NODE, 2 * (32 + this.w))
    this.leaf = scratch(TAG_LEAF, 32 + this.w)
    this.pad = scratch(TAG_PADDING, 32)
  }

  private userScratch(idLen: number): { pre: Uint8Array; pre32: Uint32Array } {
    let b = this.userPre[idLen]
    if (!b) {
      b = scratch(TAG_USER, 32 + idLen)
      this.userPre[idLen] = b
    }
    return b
  }

  /** Leaves `from … from + n − 1` into `out` at node `base`. */
  leaves(src: LeafSource, from: number, n: number, out: Level, base: number): void {
    const { cols, slots } = src
    if (this.pagesOf !== cols) {
      this.pagesOf = cols
      this.pageWords = cols.pages.map((p) => words(p.balances))
    }
    const w4 = this.w4
    const rnd = words(src.random)
    const outBal = words(out.balances)
    const leaf = this.leaf
    const lp32 = leaf.pre32
    for (let i = 0; i < n; i++) {
      const idx = from + i
      const u = slots[idx] as number
      const at = base + i
      if (u < 0) {
        const p32 = this.pad.pre32
        for (let j = 0; j < 8; j++) p32[j] = rnd[idx * 8 + j] as number
        this.digest(this.pad.pre, out.hashes, at * 32)
        outBal.fill(0, at * w4, at * w4 + w4)
        continue
      }
      const page = cols.pages[u >>> PAGE_BITS] as ColumnPage
      const pw = this.pageWords[u >>> PAGE_BITS] as Uint32Array
      const pi = u & PAGE_MASK
      const s = pi === 0 ? 0 : (page.idEnds[pi - 1] as number)
      const len = (page.idEnds[pi] as number) - s
      const user = this.userScratch(len)
      for (let j = 0; j < 8; j++) user.pre32[j] = rnd[idx * 8 + j] as number
      copy(page.ids, s, user.pre, 33, len)
      this.digest(user.pre, leaf.pre, 1)
      for (let j = 0; j < w4; j++) {
        const v = pw[pi * w4 + j] as number
        lp32[8 + j] = v
        outBal[at * w4 + j] = v
      }
      this.digest(leaf.pre, out.hashes, at * 32)
    }
  }

  /**
   * `count` parents of `child` nodes `cbase …` (pairwise) into `out` at node `obase`. Returns false
   * when a sum reaches 2^128 (the tree must be refused).
   */
  parents(child: Level, cbase: number, count: number, out: Level, obase: number): boolean {
    const w = this.w
    const w4 = this.w4
    const k = this.k
    const { pre, pre32 } = this.node
    const ch32 = words(child.hashes)
    const cb32 = words(child.balances)
    const cv = view(child.balances)
    const ov = view(out.balances)
    for (let i = 0; i < count; i++) {
      const l = cbase + 2 * i
      for (let j = 0; j < 8; j++) {
        pre32[j] = ch32[l * 8 + j] as number
        pre32[8 + w4 + j] = ch32[l * 8 + 8 + j] as number
      }
      for (let j = 0; j < w4; j++) {
        pre32[8 + j] = cb32[l * w4 + j] as number
        pre32[16 + w4 + j] = cb32[l * w4 + w4 + j] as number
      }
      const a = l * w
      const b = a + w
      const o = (obase + i) * w
      for (let c = 0; c < k; c++) {
        let carry = 0
        for (let j = c * U128_BYTES + 12; j >= c * U128_BYTES; j -= 4) {
          const s = cv.getUint32(a + j) + cv.getUint32(b + j) + carry
          carry = s > 0xffffffff ? 1 : 0
          ov.setUint32(o + j, s >>> 0)
        }
        if (carry !== 0) return false
      }
      this.digest(pre, out.hashes, (obase + i) * 32)
    }
    return true
  }
}
