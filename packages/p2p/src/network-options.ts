// What the P2P node is given (options, modules), the request limits it serves under, and what
// it tells the RPC about sync (rpc's `RpcNetwork`).
import type { GossipChain } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { P2pConfig } from './config.ts'
import type { IdentitySigner } from './external-identity.ts'
import type { P2pMetrics } from './metrics.ts'

/** Most blocks one blocks_by_range or blocks_by_hash request may ask for. */
export const MAX_REQUEST_BLOCKS = 1024
/**
 * The soft limit on a blocks_by_range or blocks_by_hash answer's bytes: no block is added once the
 * answer reaches it (geth serves bodies up to 2 MiB a response). A short answer is no fault: the
 * range sync asks for the rest. Without it an answer of 1,024 blocks could hold 8 GiB (EIP-7934's
 * 8 MiB blocks), and under the hybrid scheme each block's certificate alone is ~3.4 MB at 1,000
 * validators: the 128 blocks of a sync batch would be ~435 MB, two batches from each of 4 peers
 * in flight ~3.5 GB. With the limit, at most 8 × (16 MiB + one block).
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

export interface P2pOptions extends P2pConfig {
  /** Where bans and known peers live (`<datadir>/p2p`), and the node key when none is given; null: memory. */
  dir: string | null
  /**
   * The node's identity as a raw secp256k1 private key (the node's `keys/node.key`, managed by
   * `cairn keys`); the peer id derives from it. Without it, an Ed25519 key kept in `dir/nodekey`.
   */
  identityKey?: Uint8Array
  /** Largest encoded block accepted. */
  maxBlockBytes: number
  /** Soft limit on a block answer's bytes (default {@link MAX_RESPONSE_BYTES}; tests lower it). */
  maxResponseBytes?: number
  /** Request quota per peer and protocol (tokens = blocks asked for; 1 per status). */
  quota?: { capacity: number; perSecond: number }
  /**
   * Publish each new head (default true): a producer's blocks reach the network this way. A
   * follower sets it false: what it imports from gossip is forwarded by gossipsub already, and
   * what it syncs is old news.
   */
  announceHeads?: boolean
  /** Milliseconds between score heartbeats. */
  heartbeatMs?: number
  /** Milliseconds transactions admitted by the pool wait to be announced together (default 10). */
  txAnnounceMs?: number
  /**
   * Milliseconds after a peer subscribes to the blocks topic before its status is asked for again
   * (default 1,000): a head it sealed after the first status but before it knew of our
   * subscription reached us by neither, and would wait for its next block or status refresh.
   */
  subscribedStatusDelayMs?: number
}

export interface P2pModules {
  chain: GossipChain
  pool: TxPool
  logger: Logger
  metrics: P2pMetrics | null
  /** Milliseconds since the epoch (injected in tests). */
  now?: () => number
  /**
   * The node's identity when its key is held outside this process (an HSM: `p2p.identity` kind
   * `hsm`); it takes the place of `opts.identityKey` and `dir/nodekey`.
   */
  identity?: IdentitySigner | null
  /**
   * The head's total work when the engine's fork choice is the heaviest total work (proof of
   * work; undefined until known): the status carries it, and sync follows heavier peers, not higher ones.
   */
  headWork?: () => bigint | undefined
  /**
   * Which new heads go on the blocks topic, when `announceHeads` (absent: all): an engine whose
   * later blocks travel in messages of its own (the PoW → PoS transition: BFT's from its height).
   */
  announces?: (block: Block) => boolean
}

/** eth_syncing's object. */
export interface SyncProgress {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}
