import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import { leafHash, paddingHash, userHash } from '../verifier/encoding.ts'
import { MAX_USER_ID_BYTES } from '../verifier/proof.ts'
import { encodeBalances, isU128 } from '../verifier/u128.ts'
import type { SumTree, TreeLevel, TreeUser } from './build.ts'
import type { UserIndex } from './columns.ts'
import { digestFor, hashFnOf, TreeHasher } from './kernel.ts'
import { cryptoRandom, type RandomSource, randomBelow } from './random.ts'

/**
 * Incremental snapshots: the next tree from the last one and the balances that changed, hashing
 * only the changed leaves and the paths above them (a full build hashes every node).
 *
 * What stays: every unchanged user keeps their leaf and salt, so their leaf hash is the same in
 * both trees; a changed user keeps their leaf and salt with new balances; a new user takes a
 * padding leaf drawn uniformly at random, with a fresh salt; a removed user's leaf becomes padding
 * with a fresh preimage. The price is linkability: two snapshots built this way share unchanged
 * leaves and places, which a full build (fresh salts and placement) never does. Chains of
 * incremental builds are meant to be cut by a full build at the operator's cadence
 * (docs/reserves/incremental.md). When the new users do not fit in the free leaves (the tree would
 * have to grow), the update is refused: build in full.
 */

/** One user's change: new balances (adds the user when new), signed deltas, or removal. */
export type BalanceChange =
  | { userId: string; balances: readonly bigint[] }
  | { userId: string; deltas: readonly bigint[] }
  | { userId: string; remove: true }

export interface UpdateOptions {
  /** Salts of new users and preimages of freed leaves; the placement of new users (default: OS CSPRNG). */
  random?: RandomSource
  /**
   * Updates `base`'s levels in place instead of copying them (the copy of a 2^20-leaf tree × 3
   * currencies is 160 MB, most of an update's time). `base` must not be used afterwards: its
   * levels then belong to the new tree.
   */
  inPlace?: boolean
}

export interface UpdateResult {
  tree: SumTree
  /** Users whose balances changed, were added, were removed. */
  changed: number
  added: number
  removed: number
  /** Nodes hashed (leaves + internal): a full build hashes 2^(depth+1) − 1. */
  hashed: number
}

/** A refused change; `row` is its place in the list of changes (or entries), from 1. */
const bad = (message: string, hint: string, row: number, userId: string) =>
  new CairnError(ReservesErrorCode.INPUT_INVALID, message, { fault: 'caller', hint, meta: { row, userId } })

const utf8 = new TextEncoder()

/** A user of an updated tree. */
class UpdatedUser implements TreeUser {
  constructor(
    readonly userId: string,
    readonly salt: Uint8Array,
    readonly leafIndex: number,
    readonly balances: bigint[],
  ) {}
}

/**
 * The index of an updated tree: the base index with the removed users cut out (their positions
 * shift down), then the new users appended. Lookups cost O(log removed); a chain of updates nests
 * indexes, so {@link updateTree} flattens it into a Map every {@link FLATTEN_AFTER} levels.
 */
class OverlayIndex implements UserIndex {
  readonly depth: number
  constructor(
    private readonly base: UserIndex,
    /** Base positions of the removed users, ascending. */
    private readonly removed: Int32Array,
    private readonly added: Map<string, number>,
    readonly size: number,
  ) {
    this.depth = base instanceof OverlayIndex ? base.depth + 1 : 1
  }

  get(userId: string): number | undefined {
    const a = this.added.get(userId)
    if (a !== undefined) return a
    const i = this.base.get(userId)
    if (i === undefined) return undefined
    // How many removed positions are ≤ i (and whether i is one of them).
    let lo = 0
    let hi = this.removed.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.removed[mid] as number) < i) lo = mid + 1
      else hi = mid
    }
    if (lo < this.removed.length && this.removed[lo] === i) return undefined
    return i - lo
  }

  has(userId: string): boolean {
    return this.get(userId) !== undefined
  }
}

const FLATTEN_AFTER = 8

/**
 * The new users' leaves: a partial Fisher–Yates over the free leaves (ascending), leaving the
 * first `count` of `free` drawn uniformly. Leaves freed by the same update are not in `free`: a
 * new user never lands where a removed one was in the same step. Refuses more than fit.
 */
export function drawFreeLeaves(free: number[], count: number, depth: number, random: RandomSource): void {
  if (count > free.length)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `${count} new users do not fit in the ${free.length} free leaves of a depth-${depth} tree`,
      { fault: 'caller', hint: 'build this snapshot in full (its tree grows)' },
    )
  for (let i = 0; i < count; i++) {
    const j = i + randomBelow(random, free.length - i)
    const t = free[i] as number
    free[i] = free[j] as number
    free[j] = t
  }
}

function checkBalances(userId: string, values: readonly bigint[], k: number): bigint[] {
  if (values.length !== k || !values.every(isU128))
    throw new CairnError(ReservesErrorCode.OVERFLOW, `user ${userId}: balances outside [0, 2^128)`, {
      fault: 'caller',
      hint: `give ${k} non-negative integer balances below 2^128`,
      meta: { userId },
    })
  return [...values]
}

/**
 * Applies `changes` to `base` and returns the new tree; `base` is not modified (a service may go on
 * serving it) unless `opts.inPlace`. Refuses, before hashing anything: an unknown user's deltas or removal, a user
 * listed twice, balances (or balances after deltas) outside [0, 2^128), more new users than free
 * leaves, and a root sum reaching 2^128.
 */
export function updateTree(base: SumTree, changes: readonly BalanceChange[], opts: UpdateOptions = {}): UpdateResult {
  const k = base.currencies.length
  const random = opts.random ?? cryptoRandom
  const seen = new Set<string>()
  /** Base position → new balances (changed) or null (removed). */
  const edits = new Map<number, bigint[] | null>()
  const additions: { userId: string; balances: bigint[] }[] = []
  for (const [i, c] of changes.entries()) {
    const id = c.userId
    const row = i + 1
    if (typeof id !== 'string' || id.length === 0 || utf8.encode(id).length > MAX_USER_ID_BYTES)
      throw bad(
        `change ${row} has an empty or over-long user id`,
        `user ids are 1 to ${MAX_USER_ID_BYTES} UTF-8 bytes`,
        row,
        String(id),
      )
    if (seen.has(id)) throw bad(`user ${id} is changed twice`, 'give one change per user', row, id)
    seen.add(id)
    const at = base.byId.get(id)
    if ('remove' in c) {
      if (at === undefined)
        throw bad(`user ${id} is not in the base snapshot`, 'only users of the base can be removed', row, id)
      edits.set(at, null)
    } else if ('deltas' in c) {
      if (at === undefined)
        throw bad(`user ${id} is not in the base snapshot`, 'give a new user absolute balances, not deltas', row, id)
      const old = (base.users[at] as TreeUser).balances
      if (c.deltas.length !== k) throw bad(`user ${id}: ${c.deltas.length} deltas`, `give ${k} deltas`, row, id)
      edits.set(
        at,
        checkBalances(
          id,
          old.map((b, j) => b + (c.deltas[j] as bigint)),
          k,
        ),
      )
    } else if (at === undefined) additions.push({ userId: id, balances: checkBalances(id, c.balances, k) })
    else edits.set(at, checkBalances(id, c.balances, k))
  }

  const size = 2 ** base.depth
  const occupied = new Uint8Array(size)
  for (const u of base.users) occupied[u.leafIndex] = 1
  const removedAt: number[] = []
  for (const [at, v] of edits) if (v === null) removedAt.push(at)
  const free: number[] = []
  for (let i = 0; i < size; i++) if (occupied[i] === 0) free.push(i)
  drawFreeLeaves(free, additions.length, base.depth, random)

  // Users: base order without the removed, the changed replaced, then the new ones.
  removedAt.sort((a, b) => a - b)
  const users: TreeUser[] = new Array(base.users.length - removedAt.length + additions.length)
  let n = 0
  for (let i = 0; i < base.users.length; i++) {
    const e = edits.get(i)
    if (e === null) continue
    const u = base.users[i] as TreeUser
    users[n++] = e === undefined ? u : new UpdatedUser(u.userId, u.salt, u.leafIndex, e)
  }
  const added = new Map<string, number>()
  for (let i = 0; i < additions.length; i++) {
    const a = additions[i] as { userId: string; balances: bigint[] }
    added.set(a.userId, n)
    users[n++] = new UpdatedUser(a.userId, random(32), free[i] as number, a.balances)
  }

  // Levels: copies (the base stays valid) unless in place, then the dirty leaves and every node above them.
  const levels: TreeLevel[] = opts.inPlace
    ? base.levels
    : base.levels.map((l) => ({ count: l.count, hashes: l.hashes.slice(), balances: l.balances.slice() }))
  const digest = digestFor(base.hash)
  const h = hashFnOf(digest)
  const w = k * 16
  const leaves = levels[0] as TreeLevel
  const dirty: number[] = []
  const setLeaf = (idx: number, hash: Uint8Array, balances: Uint8Array) => {
    leaves.hashes.set(hash, idx * 32)
    leaves.balances.set(balances, idx * w)
    dirty.push(idx)
  }
  for (const [at, e] of edits) {
    const u = base.users[at] as TreeUser
    if (e === null) setLeaf(u.leafIndex, paddingHash(h, random(32)), new Uint8Array(w))
    else {
      const b = encodeBalances(e)
      setLeaf(u.leafIndex, leafHash(h, userHash(h, u.salt, u.userId), b), b)
    }
  }
  for (let i = n - additions.length; i < n; i++) {
    const u = users[i] as TreeUser
    const b = encodeBalances(u.balances)
    setLeaf(u.leafIndex, leafHash(h, userHash(h, u.salt, u.userId), b), b)
  }

  const hasher = new TreeHasher(digest, k)
  let hashed = dirty.length
  let level = Int32Array.from(dirty).sort()
  for (let l = 1; l <= base.depth; l++) {
    const parents: number[] = []
    for (let i = 0; i < level.length; i++) {
      const p = (level[i] as number) >>> 1
      if (parents[parents.length - 1] !== p) parents.push(p)
    }
    for (const p of parents)
      if (!hasher.parents(levels[l - 1] as TreeLevel, 2 * p, 1, levels[l] as TreeLevel, p))
        throw new CairnError(ReservesErrorCode.OVERFLOW, 'the total of a currency reaches 2^128', {
          fault: 'caller',
          hint: 'balances in one snapshot must sum to less than 2^128 per currency',
        })
    hashed += parents.length
    level = Int32Array.from(parents)
  }

  let byId: UserIndex = new OverlayIndex(base.byId, Int32Array.from(removedAt), added, users.length)
  if ((byId as OverlayIndex).depth >= FLATTEN_AFTER) byId = new Map(users.map((u, i) => [u.userId, i]))
  const changedCount = [...edits.values()].filter((e) => e !== null).length
  return {
    tree: { hash: base.hash, currencies: base.currencies, depth: base.depth, levels, users, byId },
    changed: changedCount,
    added: additions.length,
    removed: removedAt.length,
    hashed,
  }
}

/**
 * The changes that turn `base` into the snapshot `entries` (a whole new snapshot file against the
 * last tree): users whose balances differ, new users, and users no longer listed.
 */
export function diffEntries(
  base: SumTree,
  entries: readonly { userId: string; balances: readonly bigint[] }[],
): BalanceChange[] {
  const out: BalanceChange[] = []
  const present = new Uint8Array(base.users.length)
  for (const [i, e] of entries.entries()) {
    const at = base.byId.get(e.userId)
    if (at === undefined) {
      out.push({ userId: e.userId, balances: e.balances })
      continue
    }
    if (present[at] === 1) throw bad(`user ${e.userId} appears twice`, 'list each user once', i + 1, e.userId)
    present[at] = 1
    const old = (base.users[at] as TreeUser).balances
    if (old.length !== e.balances.length || old.some((b, j) => b !== e.balances[j]))
      out.push({ userId: e.userId, balances: e.balances })
  }
  for (let i = 0; i < present.length; i++)
    if (present[i] === 0) out.push({ userId: (base.users[i] as TreeUser).userId, remove: true })
  return out
}
