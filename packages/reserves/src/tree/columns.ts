import { randomFillSync } from 'node:crypto'
import { U128_BYTES } from '../verifier/u128.ts'

/**
 * A snapshot's users as flat columns instead of one object per user: what the builder hashes and
 * what a worker thread reads without copying (every buffer sits on a SharedArrayBuffer). Users are
 * kept in pages of {@link PAGE_USERS}; a page holds their balances (u128 big-endian, `16 × k`
 * bytes each, currency order) and their ids (UTF-8, back to back, `idEnds[i]` = end of id `i`).
 */
export interface UserColumns {
  count: number
  /** Currencies per user. */
  currencies: number
  pages: ColumnPage[]
  /** Per-currency totals (each < 2^128 once the reader accepted the snapshot). */
  totals: bigint[]
}

export interface ColumnPage {
  count: number
  balances: Uint8Array
  idEnds: Uint32Array
  ids: Uint8Array
}

export const PAGE_BITS = 16
export const PAGE_USERS = 1 << PAGE_BITS
export const PAGE_MASK = PAGE_USERS - 1
/** Sums of "small" amounts (< 2^50) are kept in a double until they near 2^52, then moved to a bigint. */
const SMALL_FLUSH = 2 ** 52
/** The largest amount taken on the Number fast path: 15 digits < 2^50. */
export const SMALL_MAX = 999_999_999_999_999
const SMALL_MAX_BIG = BigInt(SMALL_MAX)

function shared(bytes: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(bytes))
}

/** Finds a user (its index in input order) by id: what a `Map<string, number>` offers, in less memory. */
export interface UserIndex {
  get(userId: string): number | undefined
  has(userId: string): boolean
  readonly size: number
}

/** Where user `u`'s id sits: page, start, end. */
export function idSpan(cols: UserColumns, u: number): [ColumnPage, number, number] {
  const p = cols.pages[u >>> PAGE_BITS] as ColumnPage
  const i = u & PAGE_MASK
  return [p, i === 0 ? 0 : (p.idEnds[i - 1] as number), p.idEnds[i] as number]
}

/** The byte offset of user `u`'s balances in its page. */
export function balanceOffset(cols: UserColumns, u: number): number {
  return (u & PAGE_MASK) * cols.currencies * U128_BYTES
}

/** The page that holds user `u`. */
export function pageOf(cols: UserColumns, u: number): ColumnPage {
  return cols.pages[u >>> PAGE_BITS] as ColumnPage
}

/**
 * Appends users one row at a time: stage the row's balances with {@link setSmall} / {@link setBig},
 * then {@link commit} it with its id bytes. Duplicate ids are detected with an open-addressing
 * hash set over the id bytes (a keyed 32-bit hash, then an exact byte comparison), so 10 million
 * ids cost two typed arrays rather than a `Set` of strings. Totals are tracked per currency.
 */
export class ColumnsBuilder {
  readonly width: number
  private readonly pages: ColumnPage[] = []
  private count = 0
  // the open page
  private bal: Uint8Array
  private idEnds: Uint32Array
  private ids: Uint8Array
  private idLen = 0
  private inPage = 0
  // the staged row
  private readonly stage: Uint8Array
  private readonly stageView: DataView
  private readonly small: Float64Array
  private readonly big: (bigint | null)[]
  // totals: bigint part + a double accumulator of small amounts
  private readonly totals: bigint[]
  private readonly acc: Float64Array
  // duplicate set
  private slots: Int32Array
  private hashes: Uint32Array
  private used = 0
  private readonly seed: number

  constructor(readonly currencies: number) {
    this.width = currencies * U128_BYTES
    this.bal = new Uint8Array(Math.min(PAGE_USERS, 1024) * this.width)
    this.idEnds = new Uint32Array(PAGE_USERS)
    this.ids = new Uint8Array(1 << 16)
    this.stage = new Uint8Array(this.width)
    this.stageView = new DataView(this.stage.buffer)
    this.small = new Float64Array(currencies)
    this.big = new Array(currencies).fill(null)
    this.totals = new Array(currencies).fill(0n)
    this.acc = new Float64Array(currencies)
    this.slots = new Int32Array(1 << 12)
    this.hashes = new Uint32Array(1 << 12)
    this.seed = randomFillSync(new Uint32Array(1))[0] as number
  }

  get size(): number {
    return this.count
  }

  /** Stages balance `c` of the next row: an integer in [0, {@link SMALL_MAX}]. */
  setSmall(c: number, v: number): void {
    const o = c * U128_BYTES
    this.stageView.setUint32(o, 0)
    this.stageView.setUint32(o + 4, 0)
    this.stageView.setUint32(o + 8, Math.floor(v / 2 ** 32))
    this.stageView.setUint32(o + 12, v >>> 0)
    this.small[c] = v
    this.big[c] = null
  }

  /** Stages balance `c` of the next row: any u128. */
  setBig(c: number, v: bigint): void {
    if (v <= SMALL_MAX_BIG) {
      this.setSmall(c, Number(v))
      return
    }
    const o = c * U128_BYTES
    this.stageView.setBigUint64(o, v >> 64n)
    this.stageView.setBigUint64(o + 8, v & 0xffff_ffff_ffff_ffffn)
    this.big[c] = v
  }

  private hashId(src: Uint8Array, start: number, end: number): number {
    let h = this.seed ^ (end - start)
    for (let i = start; i < end; i++) h = Math.imul(h ^ (src[i] as number), 0x01000193)
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h >>> 0
  }

  private sameId(u: number, src: Uint8Array, start: number, end: number): boolean {
    let ids: Uint8Array
    let s: number
    let e: number
    if (u >>> PAGE_BITS === this.pages.length) {
      const i = u & PAGE_MASK
      ids = this.ids
      s = i === 0 ? 0 : (this.idEnds[i - 1] as number)
      e = this.idEnds[i] as number
    } else {
      const p = this.pages[u >>> PAGE_BITS] as ColumnPage
      const i = u & PAGE_MASK
      ids = p.ids
      s = i === 0 ? 0 : (p.idEnds[i - 1] as number)
      e = p.idEnds[i] as number
    }
    if (e - s !== end - start) return false
    for (let i = 0; i < e - s; i++) if (ids[s + i] !== src[start + i]) return false
    return true
  }

  private remember(src: Uint8Array, start: number, end: number): boolean {
    if ((this.used + 1) * 2 > this.slots.length) this.grow()
    const h = this.hashId(src, start, end)
    const mask = this.slots.length - 1
    let j = h & mask
    for (;;) {
      const v = this.slots[j] as number
      if (v === 0) break
      if (this.hashes[j] === h && this.sameId(v - 1, src, start, end)) return false
      j = (j + 1) & mask
    }
    this.slots[j] = this.count + 1
    this.hashes[j] = h
    this.used++
    return true
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2)
    const hashes = new Uint32Array(this.hashes.length * 2)
    const mask = slots.length - 1
    for (let i = 0; i < this.slots.length; i++) {
      const v = this.slots[i] as number
      if (v === 0) continue
      const h = this.hashes[i] as number
      let j = h & mask
      while (slots[j] !== 0) j = (j + 1) & mask
      slots[j] = v
      hashes[j] = h
    }
    this.slots = slots
    this.hashes = hashes
  }

  /**
   * Appends the staged row with id `src[start, end)` (UTF-8). Returns false, adding nothing, when
   * the id is already present (`unique` false: the caller checked, skip the set).
   */
  commit(src: Uint8Array, start: number, end: number, unique = true): boolean {
    if (unique && !this.remember(src, start, end)) return false
    const n = end - start
    if (this.idLen + n > this.ids.length) {
      const next = new Uint8Array(Math.max(this.ids.length * 2, this.idLen + n))
      next.set(this.ids.subarray(0, this.idLen))
      this.ids = next
    }
    this.ids.set(src.subarray(start, end), this.idLen)
    this.idLen += n
    this.idEnds[this.inPage] = this.idLen
    const w = this.width
    if ((this.inPage + 1) * w > this.bal.length) {
      const next = new Uint8Array(Math.min(PAGE_USERS * w, this.bal.length * 2))
      next.set(this.bal)
      this.bal = next
    }
    this.bal.set(this.stage, this.inPage * w)
    for (let c = 0; c < this.currencies; c++) {
      const b = this.big[c]
      if (b != null) {
        this.totals[c] = (this.totals[c] as bigint) + b
        continue
      }
      const a = (this.acc[c] as number) + (this.small[c] as number)
      if (a >= SMALL_FLUSH) {
        this.totals[c] = (this.totals[c] as bigint) + BigInt(a)
        this.acc[c] = 0
      } else this.acc[c] = a
    }
    this.count++
    this.inPage++
    if (this.inPage === PAGE_USERS) this.closePage()
    return true
  }

  private closePage(): void {
    if (this.inPage === 0) return
    const n = this.inPage
    const balances = shared(n * this.width)
    balances.set(this.bal.subarray(0, n * this.width))
    const idEnds = new Uint32Array(new SharedArrayBuffer(n * 4))
    idEnds.set(this.idEnds.subarray(0, n))
    const ids = shared(this.idLen)
    ids.set(this.ids.subarray(0, this.idLen))
    this.pages.push({ count: n, balances, idEnds, ids })
    this.inPage = 0
    this.idLen = 0
  }

  /** The columns (no more rows may be added afterwards). */
  finish(): UserColumns {
    this.closePage()
    const totals = this.totals.map((t, c) => t + BigInt(this.acc[c] as number))
    return { count: this.count, currencies: this.currencies, pages: this.pages, totals }
  }

  /** Finds users by id with the duplicate set (after {@link finish}; every row committed as unique). */
  index(): UserIndex {
    const utf8 = new TextEncoder()
    const scratch = new Uint8Array(4 * 256 + 4)
    const get = (userId: string): number | undefined => {
      if (userId.length > scratch.length / 4) return undefined
      const n = utf8.encodeInto(userId, scratch).written
      const h = this.hashId(scratch, 0, n)
      const mask = this.slots.length - 1
      for (let j = h & mask; ; j = (j + 1) & mask) {
        const v = this.slots[j] as number
        if (v === 0) return undefined
        if (this.hashes[j] === h && this.sameId(v - 1, scratch, 0, n)) return v - 1
      }
    }
    return { get, has: (userId) => get(userId) !== undefined, size: this.count }
  }
}

/** Reads user `u`'s balance `c` as a bigint. */
export function balanceOf(cols: UserColumns, u: number, c: number): bigint {
  const p = pageOf(cols, u)
  const o = balanceOffset(cols, u) + c * U128_BYTES
  const v = new DataView(p.balances.buffer, p.balances.byteOffset)
  const hi = v.getBigUint64(o)
  const lo = v.getBigUint64(o + 8)
  return hi === 0n ? lo : (hi << 64n) | lo
}
