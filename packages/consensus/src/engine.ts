import type { ChainEngine } from '@cairn/chain'

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
}
