import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { HashFn, HashName } from '../verifier/hash.ts'
import { type Currency, MAX_CURRENCIES, MAX_USER_ID_BYTES } from '../verifier/proof.ts'
import { isU128, U128_BYTES } from '../verifier/u128.ts'
import { ColumnsBuilder, type UserColumns, type UserIndex } from './columns.ts'
import { type BuildJob, hashTop, levelOffsets, runChunks } from './job.ts'
import { type DigestInto, digestFor, type Level } from './kernel.ts'
import { ByteStream, placeUsers } from './placement.ts'
import { type BuildPool, defaultWorkers, startPool } from './pool.ts'
import { cryptoRandom, type RandomSource } from './random.ts'

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
  /** userId → index in `users` (a `Map` satisfies it; the builder uses a leaner hash set). */
  byId: UserIndex
}

export interface BuildOptions {
  hash: HashName
  currencies: Currency[]
  /** The smallest depth, so that the tree's size hides the user count (default 0). */
  minDepth?: number
  /** Salts, padding and leaf order come from here (default: the OS CSPRNG). */
  random?: RandomSource
  /** Overrides the hash implementation (default: OpenSSL SHA-256, hash-wasm Keccak; see kernel.ts). */
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

/** Leaves per chunk (2^CHUNK_BITS): the unit of work a thread takes. */
export const CHUNK_BITS = 13
/** Below this many leaves a build stays on the calling thread (starting workers costs more). */
export const PARALLEL_MIN_LEAVES = 1 << 15

const overflow = () =>
  new CairnError(ReservesErrorCode.OVERFLOW, 'the total of a currency reaches 2^128', {
    fault: 'caller',
    hint: 'balances in one snapshot must sum to less than 2^128 per currency',
  })

/** Checks the options shared by every builder; returns the tree depth for `n` users. */
export function checkBuild(n: number, opts: { currencies: Currency[]; minDepth?: number | undefined }): number {
  checkCurrencies(opts.currencies)
  const minDepth = opts.minDepth ?? 0
  if (!Number.isInteger(minDepth) || minDepth < 0 || minDepth > BUILD_MAX_DEPTH)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `minimum depth ${minDepth} is out of range`, {
      fault: 'caller',
      hint: `use an integer from 0 to ${BUILD_MAX_DEPTH}`,
    })
  const depth = depthFor(n, minDepth)
  if (depth > BUILD_MAX_DEPTH)
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `${n} users need a tree deeper than ${BUILD_MAX_DEPTH}`, {
      fault: 'caller',
      hint: 'split the snapshot',
    })
  return depth
}

/** Re-checks entries (ids, duplicates, balances) and packs them into columns. */
function entriesToColumns(entries: readonly LiabilityEntry[], k: number): { cols: UserColumns; byId: UserIndex } {
  const b = new ColumnsBuilder(k)
  const id = new Uint8Array(4 * MAX_USER_ID_BYTES)
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as LiabilityEntry
    const meta = { row: i + 1, userId: e.userId }
    const enc = e.userId.length > MAX_USER_ID_BYTES ? null : utf8.encodeInto(e.userId, id)
    if (e.userId.length === 0 || !enc || enc.written > MAX_USER_ID_BYTES)
      throw new CairnError(ReservesErrorCode.INPUT_INVALID, `entry ${i + 1} has an empty or over-long user id`, {
        fault: 'caller',
        meta,
      })
    if (e.balances.length !== k || !e.balances.every(isU128))
      throw new CairnError(ReservesErrorCode.OVERFLOW, `entry ${i + 1} has balances outside [0, 2^128)`, {
        fault: 'caller',
        meta,
        hint: `give ${k} non-negative integer balances below 2^128`,
      })
    for (let c = 0; c < k; c++) b.setBig(c, e.balances[c] as bigint)
    if (!b.commit(id, 0, enc.written))
      throw new CairnError(ReservesErrorCode.DUPLICATE_USER, `user ${e.userId} appears twice`, {
        fault: 'caller',
        meta,
      })
  }
  const cols = b.finish()
  return { cols, byId: b.index() }
}

const alloc = (bytes: number, shared: boolean) =>
  new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes))

/**
 * Draws the placement and the per-leaf random bytes (in this order, from one stream: the seeded
 * test vectors depend on it) and allocates the levels. `file` set: only the levels from
 * CHUNK_BITS up stay in memory, the rest is written to that file by whoever hashes a chunk.
 */
export function prepareJob(
  cols: UserColumns,
  o: { hash: HashName; depth: number; random: RandomSource; shared: boolean; file?: string; chunkBits?: number },
): BuildJob {
  for (const t of cols.totals) if (!isU128(t)) throw overflow()
  const { depth, shared } = o
  const size = 2 ** depth
  const k = cols.currencies
  const width = k * U128_BYTES
  const stream = new ByteStream(o.random)
  const slots = placeUsers(cols.count, new Int32Array(alloc(size * 4, shared).buffer), stream)
  const random = alloc(size * 32, shared)
  stream.fill(random)
  const chunkBits = Math.min(depth, o.chunkBits ?? CHUNK_BITS)
  const levels: Level[] = []
  for (let l = 0; l <= depth; l++) {
    const n = o.file && l < chunkBits ? 0 : 2 ** (depth - l)
    levels.push({ hashes: alloc(n * 32, shared), balances: alloc(n * width, shared) })
  }
  return {
    hash: o.hash,
    currencies: k,
    depth,
    chunkBits,
    cols,
    slots,
    random,
    levels,
    file: o.file ? { path: o.file, offsets: levelOffsets(depth, k) } : null,
    control: new Int32Array(alloc(8, shared).buffer),
  }
}

/**
 * Hashes every chunk of a prepared job (on the pool's worker threads when there is one, else
 * here) and then the top levels. Throws RESERVES_OVERFLOW when a sum reaches 2^128. `meanwhile`
 * runs on this thread while workers hash. The pool is closed in every case.
 */
export async function runJob<T>(
  job: BuildJob,
  pool: BuildPool | null,
  digest: DigestInto,
  meanwhile: () => T,
): Promise<T> {
  let ok: boolean
  let out: T
  try {
    if (pool) {
      const done = pool.run(job)
      try {
        out = meanwhile()
      } finally {
        ok = await done
      }
    } else {
      out = meanwhile()
      ok = runChunks(job, digest)
    }
  } finally {
    pool?.close()
  }
  if (!ok || !hashTop(job, digest)) throw overflow()
  return out
}

/** A user of an in-memory tree; the salt is a view made on first use (a million views cost ~0.5 s). */
class FlatUser implements TreeUser {
  constructor(
    readonly userId: string,
    readonly leafIndex: number,
    readonly balances: bigint[],
    private readonly random: Uint8Array,
  ) {}

  get salt(): Uint8Array {
    return this.random.subarray(this.leafIndex * 32, this.leafIndex * 32 + 32)
  }
}

function treeOf(job: BuildJob, opts: BuildOptions, entries: readonly LiabilityEntry[], byId: UserIndex): SumTree {
  const { slots, random } = job
  const leafOf = new Int32Array(entries.length)
  for (let idx = 0; idx < slots.length; idx++) {
    const u = slots[idx] as number
    if (u >= 0) leafOf[u] = idx
  }
  // Filled in order: an array filled at random places is left sparse by V8, and slow to read.
  const users: TreeUser[] = []
  for (let u = 0; u < entries.length; u++) {
    const e = entries[u] as LiabilityEntry
    users.push(new FlatUser(e.userId, leafOf[u] as number, e.balances, random))
  }
  const levels = job.levels.map((l, i) => ({ count: 2 ** (job.depth - i), hashes: l.hashes, balances: l.balances }))
  return { hash: opts.hash, currencies: opts.currencies, depth: job.depth, levels, users, byId }
}

/**
 * Builds the Merkle sum tree of a snapshot on this thread. Every entry is checked again here (the
 * input readers check first and report every bad row): empty or over-long ids, duplicate ids, a
 * wrong number of balances, balances outside [0, 2^128) and root sums ≥ 2^128 are refused with a
 * CairnError. Users get fresh 32-byte salts and are placed at random leaf indexes; the other
 * places hold padding leaves with random preimages and zero balances.
 */
export function buildTree(entries: readonly LiabilityEntry[], opts: BuildOptions): SumTree {
  const depth = checkBuild(entries.length, opts)
  const { cols, byId } = entriesToColumns(entries, opts.currencies.length)
  const random = opts.random ?? cryptoRandom
  const job = prepareJob(cols, { hash: opts.hash, depth, random, shared: false })
  const digest = digestFor(opts.hash, opts.hashFn)
  if (!runChunks(job, digest) || !hashTop(job, digest)) throw overflow()
  return treeOf(job, opts, entries, byId)
}

/**
 * {@link buildTree} with the leaf level and the subtrees below 2^CHUNK_BITS leaves hashed by
 * `opts.workers` worker threads (default: one per core) on shared memory; same tree, same checks.
 */
export async function buildTreeParallel(
  entries: readonly LiabilityEntry[],
  opts: BuildOptions & { workers?: number; chunkBits?: number },
): Promise<SumTree> {
  const depth = checkBuild(entries.length, opts)
  const workers = opts.hashFn ? 1 : (opts.workers ?? (2 ** depth < PARALLEL_MIN_LEAVES ? 1 : defaultWorkers()))
  // Workers start now: their start-up overlaps the checks, the placement and the randomness.
  const pool = workers > 1 ? startPool(workers) : null
  let job: BuildJob
  let byId: UserIndex
  try {
    const packed = entriesToColumns(entries, opts.currencies.length)
    byId = packed.byId
    job = prepareJob(packed.cols, {
      hash: opts.hash,
      depth,
      random: opts.random ?? cryptoRandom,
      shared: workers > 1,
      ...(opts.chunkBits === undefined ? {} : { chunkBits: opts.chunkBits }),
    })
  } catch (err) {
    pool?.close()
    throw err
  }
  const digest = digestFor(opts.hash, opts.hashFn)
  return runJob(job, pool, digest, () => treeOf(job, opts, entries, byId))
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
