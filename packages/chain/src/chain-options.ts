import type { CorruptionSink, KVStore } from '@cairn/db'
import type { Logger } from '@cairn/utils'
import type { CustomCrypto } from '@ethereumjs/common'
import type { VM } from '@ethereumjs/vm'
import type { ChainEngine } from './engine.ts'
import type { SenderRecovery } from './execution/recovery.ts'
import type { ForkStart } from './fork/fork-start.ts'
import type { BlockProcessorOptions } from './import/block-processor.ts'
import type { ChainMetrics } from './metrics.ts'

// What `Chain.open` takes (options and modules) and reports.

export interface ChainOptions {
  /**
   * The genesis to start from. Required for a new datadir; for an existing one it must match the
   * stored genesis (omit it to use the stored one).
   */
  genesis?: unknown
  /** Where the genesis came from, for error messages. */
  genesisSource?: string
  /** Limits of the block front door (`processBlock`). */
  blocks?: Partial<BlockProcessorOptions>
  /**
   * Bytes of state-trie nodes kept in memory in front of LevelDB (`StateDB`'s node ring; default
   * {@link DEFAULT_STATE_CACHE_BYTES}); 0 for none. Unused with an in-memory store.
   */
  stateCacheBytes?: number
  /**
   * Reference mode: every speed shim of the chain off at once — the transfer fast path, the batched
   * state manager and its trie, the jump-destination cache, the block builder's shortcuts (ordered
   * tries, kept transactions), synchronous trie reads, shared read views and the transaction
   * decoder's direct path — so blocks run through @ethereumjs exactly as published (its patches
   * under patches/ aside). Slower; the answer to "is it the shim?" (`cairn start --reference`).
   */
  reference?: boolean
  /**
   * Dev rules: the contract code size limit in bytes (EIP-170; initcode may be twice it) instead of
   * the fork's, as Anvil's `--code-size-limit` (`UNLIMITED_CODE_SIZE`: `--disable-code-size-limit`).
   * Blocks built so break the fork's rule: a dev chain's setting, like its state edits.
   */
  codeSizeLimit?: bigint
  /**
   * Fork mode (`src/fork/`, from `connectFork`): the chain starts at the remote's fork block, its
   * state read lazily from the remote. `genesis` defaults to the fork's (`forkGenesis`).
   */
  fork?: ForkStart
  /** The hardfork of a fork's rules (default: the newest supported). */
  forkHardfork?: string
}

/** The node ring's default size: the encoded nodes of ~200,000 accounts' trie. */
export const DEFAULT_STATE_CACHE_BYTES = 64 * 1024 * 1024

export interface ChainModules {
  kv: KVStore
  engine: ChainEngine
  logger: Logger
  metrics: ChainMetrics | null
  customCrypto?: CustomCrypto
  /**
   * Extends every VM the chain makes, for blocks and for calls (a stateful system precompile:
   * sharding's bridge, `@cairn/consensus/shard`). Part of the chain's rules: a function of its
   * genesis, the same on every node.
   */
  extendVM?: (vm: VM) => void
  /** Recovers the senders of received blocks on worker threads (`workerRecovery`). */
  recovery?: SenderRecovery
  /** Seconds since the epoch, for the front door's future-timestamp check (injected in tests). */
  now?: () => number
  /** Told of each damaged entry a read of the chain store finds (DB_CORRUPT), before it throws. */
  onCorruption?: CorruptionSink
}

/** What start-up found and did, for the node to report. */
export interface OpenReport {
  created: boolean
  /** Blocks rolled back because they were incomplete (a crash mid-write). */
  rolledBack: number
  warnings: string[]
}
