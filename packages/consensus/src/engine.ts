import type {
  BuildHeader,
  BuildResult,
  ChainEngine,
  EngineChain,
  ExecutedBlock,
  ImportResult,
  ParentBlock,
} from '@cairn/chain'
import type { ChainFollower, TxPool } from '@cairn/txpool'
import type { Block } from '@ethereumjs/block'
import type { BftTransport } from './bft/reactor.ts'
import type { ValidatorSet } from './bft/validator-set.ts'
import type { DagApi } from './ghostdag/engine/ghostdag-engine.ts'
import type { WorkApi } from './pow/work-api.ts'

/**
 * What an engine asks of the node that runs it. The composition root reads these, never which
 * engine it is: a new engine declares its own. An engine that declares none is a plain producer
 * (heads announced, running only when `mining`, no topic of its own, no validator sets).
 */
export interface EngineCapabilities {
  /**
   * New heads are announced on the network's blocks topic. false: the engine carries its blocks in
   * messages of its own (BFT proposals and commits), and heads announced too would be executed twice.
   */
  readonly announcesHeads: boolean
  /**
   * Of the heads announced (`announcesHeads`), which (absent: all): an engine that hands over to
   * one carrying its blocks in messages of its own stops announcing at the hand-over (the PoW →
   * PoS transition: BFT's blocks from its height would otherwise be executed twice by validators).
   */
  readonly announcesHead?: (number: bigint) => boolean
  /**
   * The engine runs on every node, `mining` or not (a BFT validator votes, any other node follows
   * the commits). false: it runs only to produce (`mining`, not a follower).
   */
  readonly alwaysRuns: boolean
  /** The engine talks to its peers on the network's consensus topic: handed it once the network is up. */
  readonly consensusTopic?: { connect(transport: BftTransport): void }
  /** The engine keeps validator sets, which the RPC serves. */
  readonly validatorSets?: { validatorsAt(height: number): ValidatorSet }
  /** The engine hands out proof-of-work to external miners (`eth_getWork`, …), which the RPC serves. */
  readonly work?: WorkApi
  /**
   * The engine's fork choice is the heaviest total work: the head's total work (undefined until
   * known), which the network's status carries and sync compares instead of head numbers.
   */
  readonly headWork?: () => bigint | undefined
  /**
   * The engine produces nothing while the node catches up with its peers (a miner would waste its
   * work on an old head): handed the network's "still syncing" once the network is up.
   */
  readonly waitsForSync?: { followSync(syncing: () => boolean): void }
  /** The engine keeps a block DAG (GhostDAG), which the RPC serves (`cairn_getDagInfo`, `cairn_getBlockDagData`). */
  readonly dag?: DagApi
  /**
   * Blocks this node produced that did not become the head still go to its peers (a DAG block off
   * the chain is merged by later ones): the network subscribes and announces them on the blocks topic.
   */
  readonly announcesSideBlocks?: { onBlock(listener: (block: Block) => void): void }
}

/**
 * A consensus engine: its rules ({@link ChainEngine}: header validation, begin/end block hooks,
 * fork choice, rule finality — the chain is opened with them), and a producer. Built once by the
 * composition root from config, in two phases: the chain is opened with the engine as its rules,
 * then {@link attach} hands the engine the chain and the pool. The import pipeline never knows
 * which engine runs. Engines that prove finality push it with `chain.setFinalized`.
 */
export interface Engine extends ChainEngine {
  /** What the engine asks of the node (absent: a plain producer, see {@link EngineCapabilities}). */
  readonly capabilities?: EngineCapabilities
  /**
   * Phase two: the chain opened with this engine's rules, the pool it produces from, and the
   * pool's follower of the chain's events (`followChain`).
   */
  attach(modules: { chain: EngineChain; pool: TxPool; follower?: ChainFollower }): void
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
