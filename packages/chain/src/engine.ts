import type { BlockHeader } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import type { BlockReader } from './chain-reader.ts'

/**
 * What the chain needs from a consensus engine: its rules. The import pipeline calls these hooks
 * and never knows which engine runs; `@cairn/consensus` defines the full Engine (which also
 * produces blocks) on top of this.
 */
export interface ChainEngine {
  readonly name: string
  /**
   * Checks the engine's own header fields (seal, proposer, timestamp rules, extra-data shape)
   * against the parent, with read access to the chain and to the state of any stored block (a
   * validator set kept in a system contract). Throws a CairnError (fault `caller` when the block
   * is at fault). Runs before execution, and in `preValidate` (gossip's cheap checks).
   */
  validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void>
  /**
   * Runs before a block's transactions, on its state (system calls through `ctx.vm`), the same
   * way when producing and when importing.
   */
  beginBlock?(ctx: BlockHookContext): Promise<void>
  /**
   * Runs after a block's transactions and before its state root is computed (rewards, system
   * calls, slashing from evidence), the same way when producing and when importing. May return
   * validator-set updates and evidence: the executed block carries them (`ExecutedBlock.endBlock`).
   * A function of the block and its parent's state alone: a block may execute before its own header
   * is checked (the importer's execution ahead of a range sync's next block), and more than once.
   */
  endBlock?(ctx: EndBlockContext): Promise<EndBlockResult | undefined>
  /** True when `candidate` should become the head instead of `current` (fork choice). */
  preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean>
  /**
   * Rule finality (engines whose finality follows from the head, as the dev engine's "every block
   * is final"): the number of the latest safe block given the head. Engines that prove finality
   * (BFT) leave both out and push it instead with `Chain.setFinalized(hash, certificate)`.
   */
  safeNumber?(head: BlockHeader): bigint
  /** Rule finality: the number of the latest final block given the head (see {@link safeNumber}). */
  finalizedNumber?(head: BlockHeader): bigint
  /**
   * Finality proven by the chain itself: the proof that `header`'s parent is final, carried in
   * `header` (a BFT block holds its parent's commit certificate) in the engine's bytes, the same
   * bytes `Chain.setFinalized` takes; undefined when it carries none. Only asked of a header that
   * passed {@link validateHeader} (which must verify the proof) or that this node's engine built.
   * When such a block becomes the head, the importer stores the proof for the parent and makes the
   * parent final in the block's own batch — whatever brought the block (sync, gossip, a file).
   */
  parentFinality?(header: BlockHeader): Uint8Array | undefined
  /**
   * The engine may raise a block's base fee above EIP-1559's to a floor of its own (a minimum base
   * fee set by governance, read from the parent's state). The header checks then accept any base
   * fee at or above EIP-1559's, and the engine checks the exact value in {@link beginBlock}.
   */
  readonly baseFeeFloor?: boolean
  /**
   * The engine seals proof-of-work blocks itself (its own seal and difficulty rule, Cairn's PoW
   * engine): on a proof-of-work ruleset the import pipeline runs its {@link validateHeader}
   * instead of Ethash's difficulty and uncle checks (which stay for Ethereum's own PoW history).
   */
  readonly sealsProofOfWork?: boolean
  /**
   * Block-DAG headers (the GhostDAG engine): a header's timestamp may equal its parent's (several
   * chain blocks a second; the engine keeps milliseconds for its difficulty) and its extra data's
   * shape and size are the engine's to check in {@link validateHeader} (no 32-byte cap).
   */
  readonly dagHeaders?: boolean
  /**
   * The base reward, in wei, a proof-of-work ruleset's block pays its coinbase (@ethereumjs's
   * `minerReward`, which the block builder credits): an engine's chain parameter in place of the
   * fork's (2 ether from Constantinople). Absent: the fork's.
   */
  readonly blockReward?: bigint
}

/** What {@link ChainEngine.validateHeader} may read. */
export interface HeaderContext {
  /** The chain's stored blocks (headers, canonical index, receipts). */
  chain: BlockReader
  /** A read-only view of the state at a stored state root. */
  stateAt(stateRoot: Uint8Array): StateManagerInterface
}

/** The header fields known before execution, as the hooks see them while building. */
export interface BuildingHeader {
  number: bigint
  timestamp: bigint
  coinbase: Uint8Array
  /** The extra data the block will carry (a BFT block's parent certificate and evidence). */
  extraData: Uint8Array
  gasLimit: bigint
  /** EIP-1559's base fee, or the one the builder was given (absent before London). */
  baseFeePerGas?: bigint
}

/** What {@link ChainEngine.beginBlock} and {@link ChainEngine.endBlock} work on. */
export interface BlockHookContext {
  /** The block's header (while building: the fields known before execution). */
  header: BlockHeader | BuildingHeader
  /** The parent's header (rules that move a field from the parent's value, as the gas limit). */
  parent?: BlockHeader
  /** The block's state: writes become part of the block. */
  state: StateManagerInterface
  /** The VM running the block (`vm.evm.runCall` for system calls). */
  vm: VM
}

export interface EndBlockContext extends BlockHookContext {
  /** The block's transactions, in order. */
  txs: readonly TypedTransaction[]
  /** Their execution results (receipts, gas, logs), in order. */
  results: readonly RunTxResult[]
}

/** A change to the validator set decided in `endBlock` (a BFT engine applies it at H+2). */
export interface ValidatorUpdate {
  address: Uint8Array
  /** Voting power; 0 removes the validator. */
  power: bigint
}

/** What {@link ChainEngine.endBlock} may return. */
export interface EndBlockResult {
  validatorUpdates?: ValidatorUpdate[]
  /** Evidence of misbehaviour the block put on-chain, engine-encoded. */
  evidence?: Uint8Array[]
}
