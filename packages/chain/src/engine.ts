import type { BlockHeader } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'

/**
 * What the chain needs from a consensus engine. The import pipeline calls these hooks and never
 * knows which engine runs; `@cairn/consensus` defines the full Engine (which also produces blocks)
 * on top of this.
 */
export interface ChainEngine {
  readonly name: string
  /** Checks the engine's own header fields (seal, difficulty, proposer). Throws a CairnError. */
  validateHeader(header: BlockHeader, parent: BlockHeader): Promise<void>
  /**
   * Applies the engine's state changes after a block's transactions and before its state root is
   * computed (block rewards, system calls). Runs identically when producing and when importing.
   */
  finalize(header: BlockHeader | BuildingHeader, state: StateManagerInterface): Promise<void>
  /** True when `candidate` should become the head instead of `current` (fork choice). */
  preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean>
  /** The number of the latest block the engine considers safe, given the head. */
  safeNumber(head: BlockHeader): bigint
  /** The number of the latest block the engine considers final, given the head. */
  finalizedNumber(head: BlockHeader): bigint
}

/** The header fields known before execution, as `finalize` sees them while building. */
export interface BuildingHeader {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
}
