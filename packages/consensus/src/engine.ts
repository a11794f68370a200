import type { BuildHeader, ChainEngine } from '@cairn/chain'
import type { Block } from '@ethereumjs/block'

/**
 * A consensus engine: the chain-side hooks ({@link ChainEngine}: header validation, finalize,
 * fork choice, safe/finalized) plus block production. Engines that seal (dev, BFT, PoW) produce
 * blocks between `start` and `stop`; the import pipeline never knows which engine runs.
 */
export interface Engine extends ChainEngine {
  /** Begins producing blocks (if this engine produces). */
  start(): Promise<void>
  /** Stops producing; resolves once a block being sealed is committed or dropped whole. */
  stop(): Promise<void>
  /**
   * The header fields this engine would choose for a block built on `parent` now (timestamp,
   * coinbase, prevRandao, gas limit, …), without consuming anything (a fixed next timestamp stays
   * set). The engine seals with this same function, so gas estimates and `pending` calls, which
   * run against `nextBlockHeader(parent, nextBlockEnv(parent))`, see the block the transaction
   * will be in.
   */
  nextBlockEnv(parent: Block): BuildHeader
}
