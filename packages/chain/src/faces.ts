import type { TypedEmitter } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { ChainReader } from './chain-reader.ts'
import type { DevChain } from './dev/dev-chain.ts'
import type { EngineData } from './engine-data.ts'
import type { ChainEvents } from './events.ts'
import type { BlockTxSource, BuildHeader, BuildResult, ParentBlock } from './execution/executed-block.ts'
import type { BlockCommitter } from './import/block-committer.ts'
import type { PreValidation, ProcessOptions, ProcessResult } from './import/block-processor.ts'
import type { BlockSource, BlockVerifier } from './import/block-verifier.ts'
import type { StateReader } from './state-reader.ts'

// The faces other packages hold the chain by, one per kind of consumer, each the narrowest that
// consumer needs (reth's `StateProviderFactory` bounds and `CanonStateSubscriptions` are the
// model). `Chain` implements them all; a consumer that takes one of these cannot reach the rest.

/** What a forked chain tells of its fork (`Chain.fork`). */
export interface ChainFork {
  url: string
  blockNumber: bigint
  /** Points the fork at another URL of the same remote chain (anvil_setRpcUrl). */
  setUrl(url: string): void
  /** One JSON-RPC call to the remote (retried, rate limited, batched as the state reads are). */
  call<T>(method: string, params: unknown[]): Promise<T>
  /** Accounts and slots fetched so far; JSON-RPC requests sent. */
  fetched: number
  requests: number
  /**
   * Whether an account (0x-hex) is the remote's at the fork block in every local state (nothing
   * local asked for it, in a store new with this process): its fields may be read from the remote.
   */
  untouched(address: string): boolean
  /** Fetches an account's proof in the background (later reads are local); failures are dropped. */
  warm(address: string): void
}

/**
 * The chain's events: new heads, logs, reorgs, finality. What the pool, filters, subscriptions and
 * gossip learn of the chain from, wherever a block came from (reth's `CanonStateSubscriptions`).
 */
export interface ChainSubscriptions {
  readonly events: TypedEmitter<ChainEvents>
}

/**
 * What JSON-RPC reads and does (`RpcContext.chain`): blocks and state, the events, the speed
 * switch, a fork's remote, a dev chain's controls, and the pending block (a build on the head,
 * never committed) under the importer's lock.
 */
export interface RpcChain extends ChainReader, StateReader, ChainSubscriptions {
  /** Whether the chain runs without its speed shims (then so does RPC's fast lane). */
  readonly reference: boolean
  /** Fork mode: the remote the state is read from; undefined for a chain of its own. */
  readonly fork: ChainFork | undefined
  /** A dev chain's controls (state edits, rewinds, impersonation). */
  readonly dev: DevChain
  /** Builds a block on `parent` without committing it (the `pending` block). */
  build(parent: ParentBlock, header: BuildHeader, txs: BlockTxSource): Promise<BuildResult>
  /** Runs `fn` while no block commits. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>
}

/**
 * What the network serves, gossips and syncs (p2p): blocks by number and hash (as stored bytes),
 * the front door for blocks from outside, and the events it gossips from.
 */
export interface GossipChain extends ChainReader, ChainSubscriptions {
  /** The one front door for blocks from outside (see `Chain.processBlock`). */
  processBlock(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult>
  /** The front door's cheap checks alone (what gossip runs before forwarding). */
  preValidate(input: Block | Uint8Array, source?: BlockSource): Promise<PreValidation>
  /** Blocks to be imported in a row, decoded and their senders recovered in one request (range sync). */
  prepareBlocks(inputs: Uint8Array[]): Promise<(Block | Uint8Array)[]>
}

/**
 * What a consensus engine attaches to (`Engine.attach`): it reads blocks and state, builds on
 * them, verifies and commits through the chain's one import path, pushes finality, keeps its own
 * records beside the chain, and hears the chain's events.
 */
export interface EngineChain extends ChainReader, StateReader, ChainSubscriptions {
  /** Verifies a block on a parent without committing it. */
  readonly verifier: BlockVerifier
  /** Commits an executed block without executing it again. */
  readonly committer: BlockCommitter
  /** The engine's own records, kept beside the chain. */
  readonly engineData: EngineData
  /** A dev chain's controls (the dev engine's mining modes, rewinds). */
  readonly dev: DevChain
  /** Fork mode: the remote the state is read from; undefined for a chain of its own. */
  readonly fork: ChainFork | undefined
  /** Builds a block on `parent` (stored, or executed and not committed), not committed. */
  build(parent: ParentBlock, header: BuildHeader, txs: BlockTxSource): Promise<BuildResult>
  /** Runs `fn` while no block commits. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>
  /** Makes the canonical block `hash` final, with the engine's proof. Emits `finalized`. */
  setFinalized(hash: Uint8Array, certificate?: Uint8Array): Promise<void>
  /** Makes the canonical block `hash` the safe block. Emits `safe`. */
  setSafe(hash: Uint8Array): Promise<void>
  /** Deletes stored side blocks (never canonical ones); resolves to how many. */
  pruneSideBlocks(hashes: readonly Uint8Array[]): Promise<number>
}
