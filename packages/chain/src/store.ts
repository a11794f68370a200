import { Bucket, bytesCodec, type Codec, type KVStore, Repository, type WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, concatBytes, equalsBytes, uintToBytes } from '@cairn/utils'
import { type Block, type BlockBytes, type BlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { LRUCache } from 'lru-cache'
import { decodeBlock } from './block-decode.ts'
import { ChainCommons } from './common.ts'
import { ChainErrorCode } from './errors.ts'
import { decodeReceipts, encodeReceipts, type StoredReceipt } from './receipt.ts'
import { rlpFirstItem, rlpListCount, rlpListPrefixLength } from './rlp-items.ts'
import { rlpLengthPrefix } from './rlp-prefix.ts'
import { SenderOverrides } from './sender-overrides.ts'
import { encodedTx } from './tx-cache.ts'

/** Names of the head pointers kept in {@link Bucket.head}. */
export type HeadName = 'latest' | 'safe' | 'finalized'

/** Where a transaction sits in the canonical chain. */
export interface TxLocation {
  blockHash: Uint8Array
  index: number
}

const u64: Codec<bigint> = {
  encode: (n) => uintToBytes(n, 8),
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
 */
export class ChainStore {
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

  /** Senders of dev-mode impersonated transactions (see {@link SenderOverrides}). */
  readonly senderOverrides: SenderOverrides

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
   * `commons`: the chain's per-fork Commons, or one Common for a chain that runs one ruleset
   * (tests and tools).
   */
  constructor(
    readonly kv: KVStore,
    commons: ChainCommons | Common,
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
    this.senderOverrides = new SenderOverrides(kv)
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
    if (!raw) return undefined
    const values = RLP.decode(raw) as Uint8Array[]
    const header = createBlockHeaderFromBytesArray(values, {
      common: this.commons.forHeaderFields(values),
      skipConsensusFormatValidation: true,
    })
    this.headerCache.set(key, header)
    return header
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const key = bytesToHex(hash)
    const cached = this.blockCache.get(key)
    if (cached) return cached
    const [headerRaw, bodyRaw] = await Promise.all([this.headers.get(hash), this.bodies.get(hash)])
    if (!headerRaw || !bodyRaw) return undefined
    const header = RLP.decode(headerRaw) as Uint8Array[]
    const body = RLP.decode(bodyRaw) as unknown as Uint8Array[][]
    const block = decodeBlock([header, ...body] as unknown as BlockBytes, this.commons)
    this.senderOverrides.applyInPlace(block.transactions)
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
    if (!header || !body) return undefined
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
    if (!body) return undefined
    const txs = rlpFirstItem(body)
    const count = txs === undefined ? undefined : rlpListCount(txs)
    if (count === undefined) {
      throw new CairnError(ChainErrorCode.CORRUPT, `the stored body of block ${bytesToHex(hash)} is not an RLP list`, {
        fault: 'internal',
      })
    }
    return count
  }

  /** The canonical block at `number`, encoded (see {@link getBlockBytes}). */
  async getBlockBytesByNumber(number: bigint): Promise<Uint8Array | undefined> {
    const hash = await this.canonical.get(number)
    return hash ? this.getBlockBytes(hash) : undefined
  }

  /** Keeps a block just committed in the caches, so the next reads skip decoding. */
  remember(block: Block, receipts: StoredReceipt[]): void {
    const key = bytesToHex(block.hash())
    this.blockCache.set(key, block)
    this.receiptCache.set(key, receipts)
  }

  getCanonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    return this.canonical.get(number)
  }

  async getBlockByNumber(number: bigint): Promise<Block | undefined> {
    const hash = await this.canonical.get(number)
    return hash ? this.getBlock(hash) : undefined
  }

  async getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    const key = bytesToHex(hash)
    const cached = this.receiptCache.get(key)
    if (cached) return cached
    const r = await this.receipts.get(hash)
    if (r) this.receiptCache.set(key, r)
    return r
  }

  /** Where a transaction sits on the canonical chain (an entry left by a rollback is ignored). */
  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const loc = await this.txIndex.get(txHash)
    if (!loc) return undefined
    const number = await this.hashToNumber.get(loc.blockHash)
    const canonical = number === undefined ? undefined : await this.canonical.get(number)
    return canonical && equalsBytes(canonical, loc.blockHash) ? loc : undefined
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

/** Size of an RLP list with a payload of `payload` bytes. */
function rlpListSize(payload: number): number {
  if (payload < 56) return payload + 1
  let lengthBytes = 0
  for (let n = payload; n > 0; n = Math.floor(n / 256)) lengthBytes++
  return payload + 1 + lengthBytes
}
