import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { ChainCommons } from './rules/common.ts'
import type { GenesisSpec } from './rules/genesis.ts'
import type { BlockReader, HeadName, TxLocation } from './store/block-reader.ts'

export type { BlockReader, HeadName, TxLocation }

/**
 * The chain for readers (RPC, P2P serving, the pool, read threads): the stored blocks plus the
 * head and the checkpoints the engine reports. Writes go through `BlockCommitter` (engines) or
 * `processBlock` (blocks from outside); dev-only edits through `DevChain`.
 */
export interface ChainReader extends BlockReader {
  readonly chainId: bigint
  readonly genesis: GenesisSpec
  readonly genesisBlock: Block
  /** The shared Common of each fork of the chain's schedule. */
  readonly commons: ChainCommons
  /** The Common of the next block's fork (what transactions sent now are checked with). */
  readonly common: Common
  /** The canonical head. */
  readonly head: Block
  /** The header the engine reports as final (genesis until one does). */
  readonly finalizedHeader: BlockHeader
  /** The header the engine reports as safe. */
  readonly safeHeader: BlockHeader
  /** The block the engine reports as `safe` or `finalized`, or the head for `latest`. */
  checkpoint(name: HeadName): Promise<Block>
}
