import type {
  BuildHeader,
  BuildResult,
  Chain,
  ChainEngine,
  ExecutedBlock,
  ImportResult,
  ParentBlock,
} from '@cairn/chain'
import type { ChainFollower, TxPool } from '@cairn/txpool'
import type { Block } from '@ethereumjs/block'

/**
 * A consensus engine: its rules ({@link ChainEngine}: header validation, begin/end block hooks,
 * fork choice, rule finality — the chain is opened with them), and a producer. Built once by the
 * composition root from config, in two phases: the chain is opened with the engine as its rules,
 * then {@link attach} hands the engine the chain and the pool. The import pipeline never knows
 * which engine runs. Engines that prove finality push it with `chain.setFinalized`.
 */
export interface Engine extends ChainEngine {
  /**
   * Phase two: the chain opened with this engine's rules, the pool it produces from, and the
   * pool's follower of the chain's events (`followChain`).
   */
  attach(modules: { chain: Chain; pool: TxPool; follower?: ChainFollower }): void
  /** Begins producing blocks (if this engine produces). */
  start(): Promise<void>
  /** Stops producing; resolves once a block being sealed is committed or dropped whole. */
  stop(): Promise<void>
  /**
   * The header fields this engine would choose for a block built on `parent` now (timestamp,
   * coinbase, prevRandao, gas limit, …), without consuming anything (a fixed next timestamp stays
   * set). The engine builds with this same function, so gas estimates and `pending` calls, which
   * run against `nextBlockHeader(parent, nextBlockEnv(parent))`, see the block the transaction
   * will be in.
   */
  nextBlockEnv(parent: Block): BuildHeader
  /**
   * Builds a block on `parent` (stored, or proposed and not committed) from the pool: an executed
   * value that owns its writes; nothing is committed (a BFT proposal waits for votes).
   */
  propose(parent: ParentBlock): Promise<BuildResult>
  /** Commits a proposal: its block, state and the head in one step; the pool drops what it included. */
  commit(proposal: ExecutedBlock): Promise<ImportResult>
}
