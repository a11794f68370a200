import type { Block, BlockHeader } from '@ethereumjs/block'
import type { StoredReceipt } from './receipt.ts'

/** The blocks the engine names: the head, and the safe and final checkpoints. */
export type HeadName = 'latest' | 'safe' | 'finalized'

/** Where a transaction sits in the canonical chain. */
export interface TxLocation {
  blockHash: Uint8Array
  index: number
}

/**
 * The stored blocks, read by hash or number: headers, bodies, receipts, the canonical and the
 * transaction indexes, and the finality certificates an engine proved. What an engine's header
 * validation reads (`HeaderContext.chain`) and the base of `ChainReader`. Every read checks
 * what it finds: damage answers `DB_CORRUPT`, never "not found".
 */
export interface BlockReader {
  getHeader(hash: Uint8Array): Promise<BlockHeader | undefined>
  getBlock(hash: Uint8Array): Promise<Block | undefined>
  /** The block `hash`, which must be stored (CORRUPT otherwise: an index promised it). */
  mustGetBlock(hash: Uint8Array): Promise<Block>
  /** The canonical block at `number`. */
  getBlockByNumber(number: bigint): Promise<Block | undefined>
  getCanonicalHash(number: bigint): Promise<Uint8Array | undefined>
  /** The number of the stored block `hash` (on any branch). */
  getBlockNumber(hash: Uint8Array): Promise<bigint | undefined>
  getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined>
  /** Where a mined transaction sits (canonical blocks). */
  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined>
  /** How many transactions the block `hash` holds, without decoding them. */
  getTransactionCount(hash: Uint8Array): Promise<number | undefined>
  /** The block `hash` as RLP, as stored (no decode: what a peer is sent). */
  getBlockBytes(hash: Uint8Array): Promise<Uint8Array | undefined>
  getBlockBytesByNumber(number: bigint): Promise<Uint8Array | undefined>
  /** The engine's proof that the block `hash` is final (a BFT commit certificate), as stored. */
  getFinality(hash: Uint8Array): Promise<Uint8Array | undefined>
}
