import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import { leafHash, paddingHash, userHash } from '../verifier/encoding.ts'
import type { HashName } from '../verifier/hash.ts'
import { MAX_USER_ID_BYTES } from '../verifier/proof.ts'
import { encodeBalances, isU128 } from '../verifier/u128.ts'
import { digestFor, hashFnOf, type Level, TreeHasher } from './kernel.ts'
import { cryptoRandom, type RandomSource } from './random.ts'
import { drawFreeLeaves } from './update.ts'

/**
 * An incremental build against a base tree that is not in memory (a stored snapshot): the same
 * result as `updateTree` (update.ts) — unchanged users keep leaf and salt, new users take uniformly
 * drawn free leaves with fresh salts, removed users' leaves become fresh padding — but the base is
 * read through {@link SparseBase}: the changed users' places, the occupied leaves, and only the
 * sibling nodes the changed paths need. What comes out is the nodes that changed, not a tree:
 * 1% of 2^20 leaves changed is ~80,000 nodes of 2 million.
 *
 * With the same random source and changes it consumes randomness in `updateTree`'s order, so the
 * two agree root for root (sparse-update.test.ts checks it).
 */

/** A change the service takes: new balances (adds the user when new) or removal (`null`). */
export interface SetChange {
  userId: string
  balances: readonly bigint[] | null
}

/** The base tree as a store shows it. */
export interface SparseBase {
  hash: HashName
  /** Currencies in the base: balances have this many entries. */
  k: number
  depth: number
  /** Of `ids`, those in the base: their leaf and salt. */
  users(ids: readonly string[]): Promise<Map<string, { leafIndex: number; salt: Uint8Array }>>
  /** Bit i (byte i >> 3, bit i & 7) set: leaf i holds a user. */
  occupancy(): Promise<Uint8Array>
  /** The nodes (levels[j], indexes[j]) of the base: 32-byte hash ‖ 16·k-byte sums, in order. */
  nodes(levels: Int32Array, indexes: Int32Array): Promise<Level>
}

/** One node of the new tree that differs from the base. */
export interface ChangedLevel {
  level: number
  /** Node indexes, ascending. */
  indexes: Int32Array
  hashes: Uint8Array
  balances: Uint8Array
}

export interface SparseResult {
  /** Per level 0 … depth, the nodes that changed (the last holds the root). */
  levels: ChangedLevel[]
  added: { userId: string; salt: Uint8Array; leafIndex: number }[]
  removed: { userId: string; leafIndex: number }[]
  changed: number
  /** The new tree's occupied leaves. */
  occupancy: Uint8Array
  rootHash: Uint8Array
  rootBalances: Uint8Array
}

const utf8 = new TextEncoder()

const bad = (message: string, hint: string, row: number, userId: string) =>
  new CairnError(ReservesErrorCode.INPUT_INVALID, message, { fault: 'caller', hint, meta: { row, userId } })

const isSet = (bits: Uint8Array, i: number) => ((bits[i >>> 3] as number) & (1 << (i & 7))) !== 0

/** Occupancy bits of `leaves` in a tree of 2^depth leaves. */
export function occupancyOf(depth: number, leaves: Iterable<number>): Uint8Array {
  const bits = new Uint8Array(Math.ceil(2 ** depth / 8))
  for (const i of leaves) bits[i >>> 3] = (bits[i >>> 3] as number) | (1 << (i & 7))
  return bits
}

/** Applies `changes` to the base; refuses as `updateTree` does, before anything is hashed. */
export async function sparseUpdate(
  base: SparseBase,
  changes: readonly SetChange[],
  random: RandomSource = cryptoRandom,
): Promise<SparseResult> {
  const { k, depth } = base
  if (changes.length === 0)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'an incremental build needs at least one change', {
      fault: 'caller',
      hint: 'list the users whose balances changed, were added or removed',
    })
  const seen = new Set<string>()
  for (const [i, c] of changes.entries()) {
    const id = c.userId
    if (typeof id !== 'string' || id.length === 0 || utf8.encode(id).length > MAX_USER_ID_BYTES)
      throw bad(
        `change ${i + 1} has an empty or over-long user id`,
        `user ids are 1 to ${MAX_USER_ID_BYTES} UTF-8 bytes`,
        i + 1,
        String(id),
      )
    if (seen.has(id)) throw bad(`user ${id} is changed twice`, 'give one change per user', i + 1, id)
    seen.add(id)
    if (c.balances !== null && (c.balances.length !== k || !c.balances.every(isU128)))
      throw new CairnError(ReservesErrorCode.OVERFLOW, `user ${id}: balances outside [0, 2^128)`, {
        fault: 'caller',
        hint: `give ${k} non-negative integer balances below 2^128`,
        meta: { row: i + 1, userId: id },
      })
  }
  const found = await base.users(changes.map((c) => c.userId))
  const additions: { userId: string; balances: readonly bigint[] }[] = []
  /** Leaf → new leaf value source, in change order (removals draw their padding in this order). */
  const edits: { leafIndex: number; userId: string; salt: Uint8Array; balances: readonly bigint[] | null }[] = []
  for (const [i, c] of changes.entries()) {
    const at = found.get(c.userId)
    if (at === undefined) {
      if (c.balances === null)
        throw bad(
          `user ${c.userId} is not in the base snapshot`,
          'only users of the base can be removed',
          i + 1,
          c.userId,
        )
      additions.push({ userId: c.userId, balances: c.balances })
    } else edits.push({ leafIndex: at.leafIndex, userId: c.userId, salt: at.salt, balances: c.balances })
  }

  const size = 2 ** depth
  const occupied = await base.occupancy()
  if (occupied.length * 8 < size)
    throw new CairnError(ReservesErrorCode.TREE_CORRUPT, 'the base snapshot leaf map is shorter than its tree', {
      fault: 'internal',
    })
  const free: number[] = []
  for (let i = 0; i < size; i++) if (!isSet(occupied, i)) free.push(i)
  // updateTree's order: the placement draws, then the new users' salts, then the removals' padding
  drawFreeLeaves(free, additions.length, depth, random)
  const added = additions.map((a, i) => ({ userId: a.userId, salt: random(32), leafIndex: free[i] as number }))

  const digest = digestFor(base.hash)
  const h = hashFnOf(digest)
  const w = k * 16
  const leafValues = new Map<number, { hash: Uint8Array; balances: Uint8Array }>()
  const next = occupied.slice()
  const removed: { userId: string; leafIndex: number }[] = []
  let changed = 0
  for (const e of edits) {
    if (e.balances === null) {
      leafValues.set(e.leafIndex, { hash: paddingHash(h, random(32)), balances: new Uint8Array(w) })
      next[e.leafIndex >>> 3] = (next[e.leafIndex >>> 3] as number) & ~(1 << (e.leafIndex & 7))
      removed.push({ userId: e.userId, leafIndex: e.leafIndex })
    } else {
      const b = encodeBalances([...e.balances])
      leafValues.set(e.leafIndex, { hash: leafHash(h, userHash(h, e.salt, e.userId), b), balances: b })
      changed++
    }
  }
  for (const [i, a] of added.entries()) {
    const b = encodeBalances([...(additions[i] as { balances: readonly bigint[] }).balances])
    leafValues.set(a.leafIndex, { hash: leafHash(h, userHash(h, a.salt, a.userId), b), balances: b })
    next[a.leafIndex >>> 3] = (next[a.leafIndex >>> 3] as number) | (1 << (a.leafIndex & 7))
  }

  // The changed nodes per level (their parents up to the root), and the siblings to read from the base.
  const dirty: Int32Array[] = [Int32Array.from(leafValues.keys()).sort()]
  for (let l = 1; l <= depth; l++) {
    const below = dirty[l - 1] as Int32Array
    const up: number[] = []
    for (const i of below) if (up[up.length - 1] !== i >>> 1) up.push(i >>> 1)
    dirty.push(Int32Array.from(up))
  }
  const needLevels: number[] = []
  const needIndexes: number[] = []
  for (let l = 0; l < depth; l++) {
    const d = dirty[l] as Int32Array
    for (let j = 0; j < d.length; j++) {
      const i = d[j] as number
      const s = i ^ 1
      if (s < i ? j > 0 && d[j - 1] === s : j + 1 < d.length && d[j + 1] === s) continue
      needLevels.push(l)
      needIndexes.push(s)
    }
  }
  const fetched = await base.nodes(Int32Array.from(needLevels), Int32Array.from(needIndexes))
  /** Sibling values by level, keyed by index (position in `fetched`). */
  const siblings: Map<number, number>[] = Array.from({ length: depth }, () => new Map())
  for (let j = 0; j < needLevels.length; j++)
    (siblings[needLevels[j] as number] as Map<number, number>).set(needIndexes[j] as number, j)

  const leaves = dirty[0] as Int32Array
  const levels: ChangedLevel[] = [
    {
      level: 0,
      indexes: leaves,
      hashes: new Uint8Array(leaves.length * 32),
      balances: new Uint8Array(leaves.length * w),
    },
  ]
  const l0 = levels[0] as ChangedLevel
  for (let j = 0; j < leaves.length; j++) {
    const v = leafValues.get(leaves[j] as number) as { hash: Uint8Array; balances: Uint8Array }
    l0.hashes.set(v.hash, j * 32)
    l0.balances.set(v.balances, j * w)
  }
  const hasher = new TreeHasher(digest, k)
  const pair: Level = { hashes: new Uint8Array(64), balances: new Uint8Array(2 * w) }
  for (let l = 1; l <= depth; l++) {
    const below = levels[l - 1] as ChangedLevel
    const sib = siblings[l - 1] as Map<number, number>
    const idx = dirty[l] as Int32Array
    const out: ChangedLevel = {
      level: l,
      indexes: idx,
      hashes: new Uint8Array(idx.length * 32),
      balances: new Uint8Array(idx.length * w),
    }
    let c = 0
    for (let j = 0; j < idx.length; j++) {
      const p = idx[j] as number
      for (const side of [0, 1]) {
        const child = 2 * p + side
        if (c < below.indexes.length && below.indexes[c] === child) {
          pair.hashes.set(below.hashes.subarray(c * 32, c * 32 + 32), side * 32)
          pair.balances.set(below.balances.subarray(c * w, c * w + w), side * w)
          c++
        } else {
          const f = sib.get(child)
          if (f === undefined)
            throw new CairnError(ReservesErrorCode.TREE_CORRUPT, `node ${l - 1}/${child} was not read`, {
              fault: 'internal',
            })
          pair.hashes.set(fetched.hashes.subarray(f * 32, f * 32 + 32), side * 32)
          pair.balances.set(fetched.balances.subarray(f * w, f * w + w), side * w)
        }
      }
      if (!hasher.parents(pair, 0, 1, out, j))
        throw new CairnError(ReservesErrorCode.OVERFLOW, 'the total of a currency reaches 2^128', {
          fault: 'caller',
          hint: 'balances in one snapshot must sum to less than 2^128 per currency',
        })
    }
    levels.push(out)
  }
  const top = levels[depth] as ChangedLevel
  return {
    levels,
    added,
    removed,
    changed,
    occupancy: next,
    rootHash: top.hashes,
    rootBalances: top.balances,
  }
}
