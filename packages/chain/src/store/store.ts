import { keccak256 } from '@cairn/crypto'
import {
  Bucket,
  bucketKey,
  bytesCodec,
  type Codec,
  type CorruptionSink,
  type KVStore,
  Repository,
  storedEntryCorrupt,
  type WriteBatch,
} from '@cairn/db'
import { bytesToHex, CairnError, concatBytes, equalsBytes, uintToBytes } from '@cairn/utils'
import { type Block, type BlockBytes, type BlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { MAX_UINT64 } from '@ethereumjs/util'
import { LRUCache } from 'lru-cache'
import { ChainErrorCode } from '../errors.ts'
import { ChainCommons } from '../rules/common.ts'
import { encodedTx } from '../state/tx-cache.ts'
import { decodeBlock } from './block-decode.ts'
import type { BlockReader, HeadName, TxLocation } from './block-reader.ts'
import { decodeReceipts, encodeReceipts, type StoredReceipt } from './receipt.ts'
import { rlpFirstItem, rlpListCount, rlpListPrefixLength } from './rlp-items.ts'
import { rlpLengthPrefix } from './rlp-prefix.ts'

/** Names of the head pointers kept in {@link Bucket.head}. */
export type { HeadName, TxLocation } from './block-reader.ts'

/**
 * Block numbers key the canonical index by 8 bytes: one that does not fit is refused, never
 * truncated (it would read another block). The RPC refuses such numbers at its edge; this is the
 * second line.
 */
const u64: Codec<bigint> = {
  encode: (n) => {
    if (n < 0n || n > MAX_UINT64) {
      throw new CairnError(ChainErrorCode.NUMBER_OUT_OF_RANGE, `block number ${n} does not fit 64 bits`, {
        fault: 'internal',
      })
    }
    return uintToBytes(n, 8)
  },
  decode: (b) => BigInt(bytesToHex(b)),
}
const u256: Codec<bigint> = {
  encode: (n) => uintToBytes(n, 32),
  decode: (b) => BigInt(bytesToHex(b)),
}
const utf8: Codec<string> = {
  encode: (s) => new TextEncoder().encode(s),
  decode: (b) => new TextDecoder().decode(b),
}
const txLocation: Codec<TxLocation> = {
  encode: (l) => {
    const out = new Uint8Array(36)
    out.set(l.blockHash, 0)
    out.set(uintToBytes(l.index, 4), 32)
    return out
  },
  decode: (b) => ({ blockHash: b.slice(0, 32), index: new DataView(b.buffer, b.byteOffset + 32, 4).getUint32(0) }),
}
const receiptsCodec: Codec<StoredReceipt[]> = { encode: encodeReceipts, decode: decodeReceipts }

/**
 * Transactions (and receipts) the decoded-block and receipt caches hold at most, beside their 16
 * blocks: a 300M-gas block of transfers (14,285) fits; a block with more is read from the store
 * each time.
 */
export const CACHED_TRANSACTIONS = 16_384

/**
 * The chain's typed repositories over the KV store, with small caches of recent blocks.
 *
 * | bucket       | key              | value                                  |
 * |--------------|------------------|----------------------------------------|
 * | header       | block hash       | RLP header                             |
 * | body         | block hash       | RLP [transactions, uncles, withdrawals]|
 * | receipts     | block hash       | RLP list of {@link StoredReceipt}      |
 * | txIndex      | tx hash          | block hash ++ uint32 index             |
 * | canonical    | uint64 number    | block hash                             |
 * | hashToNumber | block hash       | uint64 number                          |
 * | head         | 'latest'/'safe'/'finalized' | block hash                  |
 * | meta         | utf-8 name       | bytes (genesis, chain id, schema)      |
 * | weight       | block hash       | uint256 total difficulty (TTD chains)  |
 * | finality     | block hash       | finality certificate (engine's bytes)  |
 *
 * Writes take a {@link WriteBatch}: the import pipeline commits a block in one batch.
 *
 * A damaged entry never reads as an absent one (LevelDB does not verify block checksums on reads:
 * changed bytes in a table read as another value, or as no value when they hit the key). Reads
 * check what costs nothing extra on the path that finds the entry — a header hashes to its key, a
 * value decodes, a header comes with its body — and, only when an entry is missing, whether the
 * store's own indexes say it must exist (the block's number is indexed; a number at or below the
 * head has a canonical hash). Such a read throws DB_CORRUPT (`storedEntryCorrupt`), told first to
 * the `onCorruption` sink.
 */
/** Gives transactions a sender their signature does not hold (see {@link ChainStore.senders}). */
export interface SenderHook {
  /** Replaces, in place, each transaction of `txs` whose sender it knows with one answering so. */
  applyInPlace(txs: TypedTransaction[]): void
}

export class ChainStore implements BlockReader {
  readonly headers: Repository<Uint8Array, Uint8Array>
  readonly bodies: Repository<Uint8Array, Uint8Array>
  readonly receipts: Repository<Uint8Array, StoredReceipt[]>
  readonly txIndex: Repository<Uint8Array, TxLocation>
  readonly canonical: Repository<bigint, Uint8Array>
  readonly hashToNumber: Repository<Uint8Array, bigint>
  readonly heads: Repository<string, Uint8Array>
  readonly meta: Repository<string, Uint8Array>
  /** Total difficulty per block hash, kept on chains that merge by terminal total difficulty. */
  readonly totalDifficulty: Repository<Uint8Array, bigint>
  /** The certificate an engine pushed with each block it finalized (`Chain.setFinalized`). */
  readonly finality: Repository<Uint8Array, Uint8Array>

  /**
   * Gives transactions a sender their signature does not hold (a dev chain's impersonated senders,
   * which `DevChain` plugs in here); unset: none.
   */
  senders: SenderHook | undefined = undefined

  // Bounded for full blocks: 1,428 decoded transactions (30M gas of transfers) take ~4 MB, so 256
  // cached blocks and their receipts held over 1 GB (measured by packages/node/bench/memory.ts).
  // And by transactions: sixteen blocks of a dev flood on 300M of gas (~3,800 transfers each)
  // held ~60,000 decoded transactions and their receipts, ~150 MB, for as long as the flood.
  private readonly blockCache = new LRUCache<string, Block>({
    max: 16,
    maxSize: CACHED_TRANSACTIONS,
    sizeCalculation: (block) => block.transactions.length + 1,
  })
  private readonly headerCache = new LRUCache<string, BlockHeader>({ max: 2048 })
  private readonly receiptCache = new LRUCache<string, StoredReceipt[]>({
    max: 16,
    maxSize: CACHED_TRANSACTIONS,
    sizeCalculation: (receipts) => receipts.length + 1,
  })

  /** The shared Common of each fork: a stored block is decoded with that of its own fork. */
  readonly commons: ChainCommons

  /**
   * The head's number, when a chain keeps this store (`Chain.open` sets it): a canonical number at
   * or below it that has no entry is damage, one above it is a block not made yet.
   */
  tipNumber: (() => bigint) | undefined = undefined
  /**
   * Fork mode: the chain starts at remote block `number` (its first stored block); below it
   * nothing is stored (no damage) and block hashes are the remote's (`hashAt`, for BLOCKHASH).
   */
  forkBelow: { number: bigint; hashAt(n: bigint): Promise<Uint8Array> } | undefined = undefined

  /**
   * `commons`: the chain's per-fork Commons, or one Common for a chain that runs one ruleset
   * (tests and tools). `onCorruption`: told of each damaged entry a read finds, before it throws.
   */
  constructor(
    readonly kv: KVStore,
    commons: ChainCommons | Common,
    private readonly onCorruption?: CorruptionSink,
  ) {
    this.commons = commons instanceof ChainCommons ? commons : ChainCommons.of(commons)
    this.headers = new Repository(kv, Bucket.header, bytesCodec, bytesCodec)
    this.bodies = new Repository(kv, Bucket.body, bytesCodec, bytesCodec)
    this.receipts = new Repository(kv, Bucket.receipts, bytesCodec, receiptsCodec)
    this.txIndex = new Repository(kv, Bucket.txIndex, bytesCodec, txLocation)
    this.canonical = new Repository(kv, Bucket.canonical, u64, bytesCodec)
    this.hashToNumber = new Repository(kv, Bucket.hashToNumber, bytesCodec, u64)
    this.heads = new Repository(kv, Bucket.head, utf8, bytesCodec)
    this.meta = new Repository(kv, Bucket.meta, utf8, bytesCodec)
    this.totalDifficulty = new Repository(kv, Bucket.weight, bytesCodec, u256)
    this.finality = new Repository(kv, Bucket.finality, bytesCodec, bytesCodec)
  }

  /**
   * Writes a block, its receipts and its number index (not its canonical status). Returns the
   * size of the block's RLP encoding. The body reuses each transaction's cached encoding.
   */
  putBlock(batch: WriteBatch, block: Block, receipts: StoredReceipt[]): number {
    const hash = block.hash()
    const header = block.header.serialize()
    // As block.raw().slice(1): typed transactions as their encoding, legacy ones as their list.
    const txs = block.transactions.map((tx) => (tx.type === 0 ? tx.raw() : encodedTx(tx)))
    const uncles = block.uncleHeaders.map((u) => u.raw())
    const withdrawals = block.withdrawals?.map((w) => w.raw())
    const body = RLP.encode((withdrawals ? [txs, uncles, withdrawals] : [txs, uncles]) as unknown as Uint8Array[])
    this.headers.put(hash, header, batch)
    this.bodies.put(hash, body, batch)
    this.receipts.put(hash, receipts, batch)
    this.hashToNumber.put(hash, block.header.number, batch)
    return rlpListSize(header.length + body.length - rlpListPrefixLength(body))
  }

  /** Makes `block` the canonical block at its height and indexes its transactions. */
  setCanonical(batch: WriteBatch, block: Block): void {
    const hash = block.hash()
    this.canonical.put(block.header.number, hash, batch)
    block.transactions.forEach((tx, index) => {
      this.txIndex.put(tx.hash(), { blockHash: hash, index }, batch)
    })
  }

  /** Removes `block` from the canonical chain (a reorg) and its transactions from the index. */
  unsetCanonical(batch: WriteBatch, block: Block): void {
    this.canonical.del(block.header.number, batch)
    for (const tx of block.transactions) this.txIndex.del(tx.hash(), batch)
  }

  /**
   * Deletes a block that is not canonical (a side block a fork-choice rule can no longer take):
   * its header, body, receipts, number index and total difficulty. Its state stays (tries are
   * shared by content). The caller checks it is not canonical and clears the caches after.
   */
  deleteSideBlock(batch: WriteBatch, hash: Uint8Array): void {
    for (const repo of [this.headers, this.bodies, this.receipts, this.hashToNumber] as const) repo.del(hash, batch)
    this.totalDifficulty.del(hash, batch)
  }

  setHead(batch: WriteBatch, name: HeadName, hash: Uint8Array): void {
    this.heads.put(name, hash, batch)
  }

  getHeadHash(name: HeadName): Promise<Uint8Array | undefined> {
    return this.heads.get(name)
  }

  async getHeader(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const key = bytesToHex(hash)
    const cached = this.headerCache.get(key) ?? this.blockCache.get(key)?.header
    if (cached) return cached
    const raw = await this.headers.get(hash)
    if (!raw) return this.absent(hash, 'header')
    const computed = this.checkHeaderBytes(hash, raw)
    let header: BlockHeader
    try {
      const values = RLP.decode(raw) as Uint8Array[]
      header = createBlockHeaderFromBytesArray(values, {
        common: this.commons.forHeaderFields(values),
        skipConsensusFormatValidation: true,
      })
    } catch (err) {
      throw this.corrupt(`header ${key}`, 'does not decode', err)
    }
    this.headerCache.set(key, seedHash(header, computed))
    return header
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const key = bytesToHex(hash)
    const cached = this.blockCache.get(key)
    if (cached) return cached
    const [headerRaw, bodyRaw] = await Promise.all([this.headers.get(hash), this.bodies.get(hash)])
    if (!headerRaw && !bodyRaw) return this.absent(hash, 'block')
    if (!headerRaw || !bodyRaw)
      throw this.corrupt(
        `block ${key}`,
        `has a ${headerRaw ? 'header' : 'body'} but no ${headerRaw ? 'body' : 'header'}`,
      )
    const computed = this.checkHeaderBytes(hash, headerRaw)
    let block: Block
    try {
      const header = RLP.decode(headerRaw) as Uint8Array[]
      const body = RLP.decode(bodyRaw) as unknown as Uint8Array[][]
      block = decodeBlock([header, ...body] as unknown as BlockBytes, this.commons)
    } catch (err) {
      throw this.corrupt(`block ${key}`, 'does not decode', err)
    }
    seedHash(block.header, computed)
    this.senders?.applyInPlace(block.transactions)
    this.blockCache.set(key, block)
    return block
  }

  /**
   * A stored block's encoding (what `block.serialize()` gives), assembled from its stored header and
   * body without decoding either: what peers are served (blocks by range and by hash). Decoding a
   * block and re-encoding it cost a serving node ~0.2 ms a block of ten transfers.
   */
  async getBlockBytes(hash: Uint8Array): Promise<Uint8Array | undefined> {
    const [header, body] = await Promise.all([this.headers.getRaw(hash), this.bodies.getRaw(hash)])
    if (!header && !body) return this.absent(hash, 'block')
    if (!header || !body)
      throw this.corrupt(
        `block ${bytesToHex(hash)}`,
        `has a ${header ? 'header' : 'body'} but no ${header ? 'body' : 'header'}`,
      )
    this.checkHeaderBytes(hash, header)
    const bodyPayload = body.subarray(rlpListPrefixLength(body))
    return concatBytes(rlpLengthPrefix(0xc0, header.length + bodyPayload.length), header, bodyPayload)
  }

  /**
   * How many transactions block `hash` holds (undefined: no such block), counted in its stored
   * body without decoding them: a block past the cache is ~5 ms of decoding per 1,000 transfers,
   * and a client counting each block's transactions (a load generator waiting for its own) asks
   * for every one.
   */
  async getTransactionCount(hash: Uint8Array): Promise<number | undefined> {
    const cached = this.blockCache.get(bytesToHex(hash))
    if (cached) return cached.transactions.length
    const body = await this.bodies.getRaw(hash)
    if (!body) return this.absent(hash, 'body')
    const txs = rlpFirstItem(body)
    const count = txs === undefined ? undefined : rlpListCount(txs)
    if (count === undefined) throw this.corrupt(`body ${bytesToHex(hash)}`, 'is not an RLP list')
    return count
  }

  /** The canonical block at `number`, encoded (see {@link getBlockBytes}). */
  async getBlockBytesByNumber(number: bigint): Promise<Uint8Array | undefined> {
    const hash = await this.getCanonicalHash(number)
    if (!hash) return undefined
    return (await this.getBlockBytes(hash)) ?? this.noCanonicalBlock(number, hash)
  }

  /** Keeps a block just committed in the caches, so the next reads skip decoding. */
  remember(block: Block, receipts: StoredReceipt[]): void {
    const key = bytesToHex(block.hash())
    this.blockCache.set(key, block)
    this.receiptCache.set(key, receipts)
  }

  /**
   * The canonical block hash at `number`; undefined above the head. With a chain's head known
   * ({@link tipNumber}), a number at or below it without an entry is damage (DB_CORRUPT).
   */
  async getCanonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    const hash = await this.canonical.get(number)
    if (hash && hash.length !== 32)
      throw this.corrupt(`canonical entry #${number}`, `is ${hash.length} bytes, not a hash`)
    if (hash) return hash
    const tip = this.tipNumber?.()
    if (tip === undefined || number > tip) return undefined
    if (this.forkBelow !== undefined && number < this.forkBelow.number) return undefined
    return this.confirmNoCanonical(number)
  }

  async getBlockByNumber(number: bigint): Promise<Block | undefined> {
    const hash = await this.getCanonicalHash(number)
    if (!hash) return undefined
    return (await this.getBlock(hash)) ?? this.noCanonicalBlock(number, hash)
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const key = bytesToHex(hash)
    const cached = this.receiptCache.get(key)
    if (cached) return cached
    const raw = await this.receipts.getRaw(hash)
    if (!raw) return this.absent(hash, 'receipts')
    let r: StoredReceipt[]
    try {
      r = decodeReceipts(raw)
    } catch (err) {
      throw this.corrupt(`receipts ${key}`, 'do not decode', err)
    }
    this.receiptCache.set(key, r)
    return r
  }

  /** Where a transaction sits on the canonical chain (an entry left by a rollback is ignored). */
  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await this.txIndex.getRaw(txHash)
    if (!raw) return undefined
    if (raw.length !== 36) throw this.corrupt(`tx index entry ${bytesToHex(txHash)}`, `is ${raw.length} bytes, not 36`)
    const loc = txLocation.decode(raw)
    const number = await this.hashToNumber.get(loc.blockHash)
    const canonical = number === undefined ? undefined : await this.canonical.get(number)
    return canonical && equalsBytes(canonical, loc.blockHash) ? loc : undefined
  }

  /** The number of the stored block `hash`, on any branch. */
  getBlockNumber(hash: Uint8Array): Promise<bigint | undefined> {
    return this.hashToNumber.get(hash)
  }

  /** The finality certificate stored with block `hash` (empty: final without one). */
  getFinality(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.finality.get(hash)
  }

  /** Reads a block that must exist; a missing one means the store is corrupt. */
  async mustGetBlock(hash: Uint8Array): Promise<Block> {
    const b = await this.getBlock(hash)
    if (!b) {
      throw new CairnError(ChainErrorCode.CORRUPT, `block ${bytesToHex(hash)} is referenced but not stored`, {
        hint: 'run `cairn db check`; restore from a backup if it reports errors',
      })
    }
    return b
  }

  /**
   * A missing entry of block `hash`: absent when the block's number is not indexed either, damage
   * when it is (a block is written whole, in one batch). The one extra read is on the miss path.
   */
  private async absent(hash: Uint8Array, what: 'header' | 'block' | 'body' | 'receipts'): Promise<undefined> {
    const number = await this.hashToNumber.getRaw(hash)
    if (number === undefined) return undefined
    const n = number.length === 8 ? ` (#${BigInt(bytesToHex(number))})` : ''
    throw this.corrupt(
      `block ${bytesToHex(hash)}${n}`,
      `is indexed, but its ${what} ${what === 'receipts' ? 'are' : 'is'} not stored`,
    )
  }

  /** The canonical `hash` at `number` names no readable block: damage, whatever the number index says. */
  private noCanonicalBlock(number: bigint, hash: Uint8Array): never {
    throw this.corrupt(`block #${number}`, `is canonical (${bytesToHex(hash)}), but its header or body is not stored`)
  }

  /**
   * No canonical entry at `number`, at or below the head this thread knows: read the stored head
   * and the entry again from one snapshot (a reorg to a shorter branch deletes entries above its
   * head in the batch that moves the stored head, before the head in memory follows). Damage when
   * the stored head is at or above `number` and the entry is still missing.
   */
  private async confirmNoCanonical(number: bigint): Promise<Uint8Array | undefined> {
    const snap = this.kv.snapshot()
    try {
      const head = await snap.get(this.heads.key('latest'))
      const headNumber = head && (await snap.get(bucketKey(Bucket.hashToNumber, head)))
      if (!headNumber || BigInt(bytesToHex(headNumber)) < number) return undefined
      const hash = await snap.get(this.canonical.key(number))
      if (hash) return hash
    } finally {
      await snap.close()
    }
    throw this.corrupt(`block #${number}`, 'is at or below the head, but has no canonical entry')
  }

  /**
   * A stored header's bytes hash to its key: anything else is damage (the key or the value).
   * Returns the hash computed (the header's own array, not the caller's key).
   */
  private checkHeaderBytes(hash: Uint8Array, raw: Uint8Array): Uint8Array {
    const computed = keccak256(raw)
    if (!equalsBytes(computed, hash)) {
      throw this.corrupt(`header ${bytesToHex(hash)}`, 'does not hash to its key (its stored bytes changed)')
    }
    return computed
  }

  /** The DB_CORRUPT error of a damaged entry, told to the sink first. */
  private corrupt(entry: string, problem: string, cause?: unknown): CairnError {
    const err = storedEntryCorrupt(entry, problem, cause)
    this.onCorruption?.(err)
    return err
  }

  private clears = 0

  /**
   * How many times the caches were cleared (blocks deleted by a rewind or a branch replacement):
   * another reader of the same store (an RPC read thread) clears its own when this moves.
   */
  get cacheEpoch(): number {
    return this.clears
  }

  /** Forgets cached entries (after a startup repair rewrote the chain, or a dev rewind deleted blocks). */
  clearCaches(): void {
    this.clears++
    this.blockCache.clear()
    this.headerCache.clear()
    this.receiptCache.clear()
  }
}

/**
 * Records `hash` as the header's (its stored bytes were just checked to hash to it), so `hash()`
 * does not encode and hash it again: a frozen @ethereumjs header keeps its hash in `cache`.
 */
function seedHash(header: BlockHeader, hash: Uint8Array): BlockHeader {
  const cache = (header as unknown as { cache: { hash?: Uint8Array } }).cache
  if (Object.isFrozen(header) && cache && cache.hash === undefined) cache.hash = hash
  return header
}

/** Size of an RLP list with a payload of `payload` bytes. */
function rlpListSize(payload: number): number {
  if (payload < 56) return payload + 1
  let lengthBytes = 0
  for (let n = payload; n > 0; n = Math.floor(n / 256)) lengthBytes++
  return payload + 1 + lengthBytes
}
