import type { RpcChain, StateEdit } from '@cairn/chain'
import type { Engine } from '@cairn/consensus'
import type { TxPool } from '@cairn/txpool'
import type { Hex, Logger } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { RpcMetrics } from './metrics.ts'
import type { RpcNetwork } from './network.ts'

/** Controls a dev chain offers (evm_mine, time travel, snapshots, state edits). Null outside dev mode. */
export interface DevControls {
  mine(): Promise<unknown>
  increaseTime(seconds: bigint): bigint
  setNextBlockTimestamp(timestamp: bigint): void
  /**
   * Applies a state edit to the state after the head, without a block (anvil_setBalance and kin,
   * as Anvil): reads at the head and the pool see it at once; the next block sealed includes it.
   */
  editState(edit: StateEdit): Promise<unknown>
  /** Remembers the head; returns the snapshot id. */
  snapshot(): bigint
  /** Makes the snapshot's block the head again; false for an unknown (or used) id. */
  revert(id: bigint): Promise<boolean>
  /** In automine mode, resolves once the pooled transaction is in the head's chain; rejects when it was dropped. */
  awaitMined(hash: Uint8Array): Promise<void>
  getAutomine(): boolean
  setAutomine(on: boolean): void
  getIntervalMining(): number
  setIntervalMining(seconds: number): void
  setCoinbase(address: Uint8Array): void
  setNextBlockBaseFee(fee: bigint): void
  setBlockGasLimit(gasLimit: bigint): void
  /** Sets the clock; returns the new offset from the wall clock in seconds. */
  setTime(timestamp: bigint): bigint
  /** Each later block `seconds` after its parent (undefined: the clock again); whether one was set. */
  setBlockTimestampInterval(seconds: bigint | undefined): boolean
  /** Drops the last `depth` blocks. */
  rollback(depth: bigint): Promise<void>
  /** Replaces the last `depth` blocks with new ones, the `i`th carrying `txs[i]` (anvil_reorg). */
  reorg(depth: bigint, txs: TypedTransaction[][]): Promise<void>
  /** Back to the genesis block: blocks, pool, snapshots and time controls gone. */
  reset(): Promise<void>
}

/** Unlocked accounts the node signs for (dev accounts). */
export interface AccountSigner {
  addresses(): Hex[]
  privateKey(address: Hex): Uint8Array | undefined
}

export interface RpcLimits {
  /** Largest request body in bytes (geth: 5 MiB). */
  bodyLimit: number
  /** Most requests in one batch (geth: 1000). */
  batchLimit: number
  /** Largest batch response in bytes (geth: 25 MB); entries past it are not run (-32003). */
  batchResponseLimit: number
  /** Longest a batch executes in ms; entries past it are not run (-32002). */
  batchTimeLimitMs: number
  /** Gas the EVM runs of one batch's entries may use together (2 × geth's per-call cap); then -32005. */
  batchGasLimit: bigint
  /** Gas cap of eth_call and eth_estimateGas (geth: 50,000,000). */
  gasCap: bigint
  /** Time limit of eth_call and eth_estimateGas in ms (geth: 5 s). */
  evmTimeoutMs: number
  /** Most blocks one eth_getLogs may scan. */
  logsBlockRange: number
  /** Most logs one eth_getLogs may return. */
  logsLimit: number
  /** Most subscriptions per WebSocket connection. */
  subscriptionsPerConnection: number
  /** A polled filter not polled for this long is uninstalled, in ms (geth: 5 minutes). */
  filterTimeoutMs: number
  /** Most struct logs one debug_trace* may return (each opcode is one). */
  traceStructLogLimit: number
  /** eth_call outcomes remembered per block and request (0: none; see fast/call-cache.ts). */
  callCacheEntries: number
  /** Answer plain view calls with the view interpreter, not the EVM (see fast/view-calls.ts); false: every call runs in the EVM. */
  viewInterpreter: boolean
  /**
   * Anvil's shapes (set on dev chains): receipts carry their block's `blockTimestamp` and
   * `blobGasPrice`, blocks a `totalDifficulty`, as Anvil's do. Off: as geth's, whose receipts have
   * neither (but a blob transaction's price) and blocks no total difficulty (hive's rpc-compat
   * compares them field for field); logs carry `blockTimestamp` either way.
   */
  receiptTimestamps: boolean
}

export const DEFAULT_RPC_LIMITS: RpcLimits = {
  bodyLimit: 5 * 1024 * 1024,
  batchLimit: 1000,
  batchResponseLimit: 25_000_000,
  batchTimeLimitMs: 10_000,
  batchGasLimit: 100_000_000n,
  gasCap: 50_000_000n,
  evmTimeoutMs: 5000,
  logsBlockRange: 10_000,
  logsLimit: 20_000,
  subscriptionsPerConnection: 1024,
  filterTimeoutMs: 5 * 60_000,
  traceStructLogLimit: 100_000,
  callCacheEntries: 4096,
  viewInterpreter: true,
  receiptTimestamps: false,
}

/** What `cairn_getValidators` and `cairn_getCommit` read of a BFT engine (`BftEngine`, by shape). */
export interface RpcConsensus {
  /** The validator set of `height` (≥ 1), in its order (certificates refer to validators by index). */
  validatorsAt(height: number): {
    readonly validators: readonly { address: Uint8Array; votingPower: bigint; proposerPriority: bigint }[]
    readonly totalVotingPower: bigint
    proposerIndex(round: number): number
    /** The chain's consensus signature scheme (the length of certificate signatures); absent: secp256k1. */
    readonly scheme?: 'secp256k1' | 'ml-dsa-65' | 'hybrid'
  }
}

/**
 * What the work methods (`eth_getWork`, `eth_submitWork`, `eth_submitHashrate`, `eth_hashrate`,
 * `eth_mining`, `cairn_acceptBranch`) read of a proof-of-work engine (`PowEngine`, by shape).
 */
export interface RpcMining {
  /** [seal hash, seed hash, boundary, number] of the current work. */
  getWork(): Promise<[string, string, string, string]>
  /** True once the sealed block is committed; a CairnError with its own code otherwise. */
  submitWork(nonce: Uint8Array, sealHash: Uint8Array, mixDigest: Uint8Array): Promise<boolean>
  submitHashrate(rate: bigint, id: Uint8Array): boolean
  /** Attempts per second: this node's threads plus what external miners reported. */
  hashRate(): bigint
  /** Whether this node's own threads mine. */
  isMining(): boolean
  coinbase(): Uint8Array | undefined
  /** Lets a branch past the reorg limit (an operator's way out after an isolation). */
  acceptBranch(hash: Uint8Array): Promise<{ number: bigint; canonical: boolean }>
}

/** What `cairn_getDagInfo` / `cairn_getBlockDagData` read of a GhostDAG engine (`GhostdagEngine`, by shape). */
export interface RpcDag {
  dagInfo(): Promise<unknown>
  blockDagData(hash: `0x${string}`): Promise<unknown | undefined>
}

/** Everything a method handler may use. Built once by the composition root. */
/** Where a forked dev chain came from, as anvil_nodeInfo and anvil_metadata report it (the URL without credentials). */
export interface ForkedFrom {
  url: string
  chainId: bigint
  blockNumber: bigint
  blockHash: string
  /** The first wait between retries of a failed remote request, ms. */
  retryBackoffMs: number
}

export interface RpcContext {
  chain: RpcChain
  pool: TxPool
  /** The block producer: what it puts in the next block's header (gas estimates and `pending` calls run in that block). */
  producer: Pick<Engine, 'nextBlockEnv'>
  dev: DevControls | null
  /** The consensus engine's validator sets (a BFT chain); absent: the engine has none (dev). */
  consensus?: RpcConsensus
  /** The proof-of-work engine's work API; absent: no proof of work (the work methods answer as Anvil's). */
  mining?: RpcMining
  /** The GhostDAG engine's DAG; absent: no DAG (`cairn_getDagInfo` answers "not supported"). */
  dag?: RpcDag
  /** The node's network (peers, sync): `NO_NETWORK` until p2p lands. */
  network: RpcNetwork
  accounts: AccountSigner
  clientVersion: string
  /** The git commit the node runs (anvil_metadata's clientCommitSha); absent: unknown. */
  buildCommit?: string
  /** Fork mode: the remote this chain forked from (anvil_nodeInfo's forkConfig, anvil_metadata's forkedNetwork). */
  forked?: ForkedFrom
  limits: RpcLimits
  /** Accept pre-EIP-155 (unprotected) raw transactions; absent: refused, as geth. */
  allowUnprotectedTxs?: boolean
  /** Millisecond clock of filter expiry; Date.now when absent (tests inject one). */
  clockMs?: () => number
  logger: Logger
  /** The RPC metrics, where the node exports them (the call cache counts its answers). */
  metrics?: RpcMetrics | null
}
