import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import { leafHash, nodeHash, paddingHash, userHash } from '../verifier/encoding.ts'
import type { HashFn, HashName } from '../verifier/hash.ts'
import { type Currency, MAX_CURRENCIES, MAX_USER_ID_BYTES } from '../verifier/proof.ts'
import { addBalancesInto, isU128, U128_BYTES, writeU128 } from '../verifier/u128.ts'
import { fastHash } from './fast-hash.ts'
import { cryptoRandom, type RandomSource, randomBelow } from './random.ts'

/** One user's liabilities: balances in the snapshot's currency order, smallest units. */
export interface LiabilityEntry {
  userId: string
  balances: bigint[]
}

/** One level of the tree: `count` nodes, their hashes (32 bytes each) and sums (16 × currencies each). */
export interface TreeLevel {
  count: number
  hashes: Uint8Array
  balances: Uint8Array
}

/** A user's place in the tree and the salt that hides their id. */
export interface TreeUser {
  userId: string
  salt: Uint8Array
  leafIndex: number
  balances: bigint[]
}

/** A built Merkle sum tree (proof format v1). */
export interface SumTree {
  hash: HashName
  currencies: Currency[]
  depth: number
  /** levels[0] = leaves … levels[depth] = the root. */
  levels: TreeLevel[]
  /** Users in input order. */
  users: TreeUser[]
  /** userId → index in `users`. */
  byId: Map<string, number>
}

export interface BuildOptions {
  hash: HashName
  currencies: Currency[]
  /** The smallest depth, so that the tree's size hides the user count (default 0). */
  minDepth?: number
  /** Salts, padding and leaf order come from here (default: the OS CSPRNG). */
  random?: RandomSource
  /** Overrides the hash implementation (default: {@link fastHash}). */
  hashFn?: HashFn
}

/** The deepest tree this process builds in memory (2^28 leaves). */
export const BUILD_MAX_DEPTH = 28

const SYMBOL = /^[A-Za-z0-9._-]{1,16}$/
const utf8 = new TextEncoder()

/** Refuses unusable currency lists (empty, too many, bad or repeated symbols, bad decimals). */
export function checkCurrencies(currencies: Currency[]): void {
  const bad = (message: string) =>
    new CairnError(ReservesErrorCode.BAD_OPTIONS, message, {
      fault: 'caller',
      hint: 'list 1 to 64 currencies, each a unique symbol of [A-Za-z0-9._-]{1,16} with 0 to 38 decimals',
    })
  if (currencies.length === 0 || currencies.length > MAX_CURRENCIES) throw bad('a snapshot needs 1 to 64 currencies')
  const seen = new Set<string>()
  for (const c of currencies) {
    if (!SYMBOL.test(c.symbol)) throw bad(`currency symbol ${JSON.stringify(c.symbol)} is not allowed`)
    if (!Number.isInteger(c.decimals) || c.decimals < 0 || c.decimals > 38)
      throw bad(`currency ${c.symbol} has decimals ${c.decimals}`)
    if (seen.has(c.symbol)) throw bad(`currency ${c.symbol} is listed twice`)
    seen.add(c.symbol)
  }
}

/** The tree depth for `n` users: max(minDepth, ⌈log2 n⌉). */
export function depthFor(n: number, minDepth: number): number {
  let d = 0
  while (2 ** d < n) d++
  return Math.max(d, minDepth)
}

/**
 * Builds the Merkle sum tree of a snapshot. Every entry is checked again here (the input readers
 * check first and report every bad row): empty or over-long ids, duplicate ids, a wrong number of
 * balances, balances outside [0, 2^128) and root sums ≥ 2^128 are refused with a CairnError.
 * Users get fresh 32-byte salts and are placed at random leaf indexes; the other places hold
 * padding leaves with random preimages and zero balances.
 */
export function buildTree(entries: readonly LiabilityEntry[], opts: BuildOptions): SumTree {
  checkCurrencies(opts.currencies)
  const minDepth = opts.minDepth ?? 0
  if (!Number.isInteger(minDepth) || minDepth < 0 || minDepth > BUILD_MAX_DEPTH)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `minimum depth ${minDepth} is out of range`, {
      fault: 'caller',
      hint: `use an integer from 0 to ${BUILD_MAX_DEPTH}`,
    })
  const k = opts.currencies.length
  const random = opts.random ?? cryptoRandom
  const h = opts.hashFn ?? fastHash(opts.hash)
  const depth = depthFor(entries.length, minDepth)
  if (depth > BUILD_MAX_DEPTH)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `${entries.length} users need a tree deeper than ${BUILD_MAX_DEPTH}`,
      {
        fault: 'caller',
        hint: 'split the snapshot',
      },
    )
  const byId = new Map<string, number>()
  for (const [i, e] of entries.entries()) {
    const meta = { row: i + 1, userId: e.userId }
    if (e.userId.length === 0 || utf8.encode(e.userId).length > MAX_USER_ID_BYTES)
      throw new CairnError(ReservesErrorCode.INPUT_INVALID, `entry ${i + 1} has an empty or over-long user id`, {
        fault: 'caller',
        meta,
      })
    if (byId.has(e.userId))
      throw new CairnError(ReservesErrorCode.DUPLICATE_USER, `user ${e.userId} appears twice`, {
        fault: 'caller',
        meta,
      })
    byId.set(e.userId, i)
    if (e.balances.length !== k || !e.balances.every(isU128))
      throw new CairnError(ReservesErrorCode.OVERFLOW, `entry ${i + 1} has balances outside [0, 2^128)`, {
        fault: 'caller',
        meta,
        hint: `give ${k} non-negative integer balances below 2^128`,
      })
  }

  // A uniformly random placement: Fisher-Yates over all 2^depth places.
  const size = 2 ** depth
  const slots = new Int32Array(size).fill(-1)
  for (let i = 0; i < entries.length; i++) slots[i] = i
  for (let i = size - 1; i > 0; i--) {
    const j = randomBelow(random, i + 1)
    const t = slots[i] as number
    slots[i] = slots[j] as number
    slots[j] = t
  }

  const width = k * U128_BYTES
  const leaves: TreeLevel = { count: size, hashes: new Uint8Array(size * 32), balances: new Uint8Array(size * width) }
  const users: TreeUser[] = new Array(entries.length)
  const b = new Uint8Array(width)
  for (let idx = 0; idx < size; idx++) {
    const u = slots[idx] as number
    if (u < 0) {
      leaves.hashes.set(paddingHash(h, random(32)), idx * 32)
      continue
    }
    const e = entries[u] as LiabilityEntry
    const salt = random(32)
    e.balances.forEach((v, c) => {
      writeU128(b, c * U128_BYTES, v)
    })
    leaves.balances.set(b, idx * width)
    leaves.hashes.set(leafHash(h, userHash(h, salt, e.userId), b), idx * 32)
    users[u] = { userId: e.userId, salt, leafIndex: idx, balances: e.balances }
  }

  const levels: TreeLevel[] = [leaves]
  for (let l = 1; l <= depth; l++) levels.push(parentLevel(levels[l - 1] as TreeLevel, width, h))
  return { hash: opts.hash, currencies: opts.currencies, depth, levels, users, byId }
}

/** Hashes one level into the next; refuses sums ≥ 2^128. */
function parentLevel(child: TreeLevel, width: number, h: HashFn): TreeLevel {
  const count = child.count / 2
  const out: TreeLevel = { count, hashes: new Uint8Array(count * 32), balances: new Uint8Array(count * width) }
  for (let i = 0; i < count; i++) {
    const l = 2 * i
    const hl = child.hashes.subarray(l * 32, l * 32 + 32)
    const hr = child.hashes.subarray(l * 32 + 32, l * 32 + 64)
    const bl = child.balances.subarray(l * width, (l + 1) * width)
    const br = child.balances.subarray((l + 1) * width, (l + 2) * width)
    if (!addBalancesInto(bl, br, out.balances.subarray(i * width, (i + 1) * width)))
      throw new CairnError(ReservesErrorCode.OVERFLOW, 'the total of a currency reaches 2^128', {
        fault: 'caller',
        hint: 'balances in one snapshot must sum to less than 2^128 per currency',
      })
    out.hashes.set(nodeHash(h, hl, bl, hr, br), i * 32)
  }
  return out
}

/**
 * Refuses a snapshot before anything is stored when a currency's total reaches 2^128 or the
 * tree would be deeper than {@link BUILD_MAX_DEPTH} (the build would fail later otherwise).
 */
export function checkTotals(entries: readonly LiabilityEntry[], currencies: number, minDepth: number): void {
  if (depthFor(entries.length, minDepth) > BUILD_MAX_DEPTH)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `${entries.length} users need a tree deeper than ${BUILD_MAX_DEPTH}`,
      {
        fault: 'caller',
        hint: 'split the snapshot',
      },
    )
  for (let c = 0; c < currencies; c++) {
    let total = 0n
    for (const e of entries) total += e.balances[c] ?? 0n
    if (!isU128(total))
      throw new CairnError(ReservesErrorCode.OVERFLOW, `the total of currency ${c + 1} reaches 2^128`, {
        fault: 'caller',
        hint: 'balances in one snapshot must sum to less than 2^128 per currency',
      })
  }
}
