// What the arbitrage engine is given: its risk limits and options, the modules it drives, and the
// hooks through which the service's risk state and nonce owner take part.
import type { Logger } from '@cairn/utils'
import type { PublicClient } from 'viem'
import type { ExecutorClient } from './execution/executor.ts'
import type { TokenGraph } from './graph/token-graph.ts'
import type { ArbMetrics } from './metrics.ts'
import type { PoolTracker } from './pools/tracker.ts'
import type { Quarantine, QuarantineOptions } from './risk/quarantine.ts'
import type { Opportunity } from './strategy/search.ts'
import type { SizingPool } from './strategy/sizing-pool.ts'
import type { TransferFees } from './strategy/transfer-fees.ts'

export interface RiskLimits {
  /** Least net profit (after gas), in base units, for a trade to be sent. */
  minProfit: bigint
  /** Largest input per trade, in base units. */
  maxIn?: bigint
  /** No trade while the fee per gas would exceed this (wei). */
  gasPriceCap?: bigint
  /**
   * Trades sent per block at most: the plan's best ones, each sized on the reserves the earlier
   * ones leave, sent with consecutive nonces before any receipt is awaited. Default 1.
   */
  maxTradesPerBlock?: number
  /**
   * The breaker opens (no trades) after this many faults in a row: trades reverted on chain for
   * another reason than a lost race, trades not sent, and simulations that failed without
   * reverting in the path (the RPC, or the executor refusing: not its owner, a bad path). A trade
   * that lost a race (its replay shows the contract's profit or hop check refused it: the pools
   * moved first) is not a fault. A simulation the path reverts (too little profit, a pair or token
   * refusing) quarantines its cycle instead (see risk/quarantine.ts). After `breakerCooldownMs`
   * one trial trade goes (half-open): landing closes the breaker. Default 3.
   */
  maxConsecutiveFailures?: number
}

export interface ArbEngineOptions {
  limits: RiskLimits
  /** Priority fee offered per gas (wei). Default 1 gwei. */
  tip?: bigint
  /** Gas units expected for a cycle of n hops, before simulation. */
  gasUnits?: (hops: number) => bigint
  /** Wei → base-token units (default: the base token is the wrapped native token, 1:1). */
  weiToBase?: (wei: bigint) => bigint
  /** Gas added to the simulated estimate when sending, in percent (plus the pairs' slack, see gasLimitFor). Default 20. */
  gasMarginPercent?: number
  /** How long cycles and tokens whose simulations revert in the path sit out (see risk/quarantine.ts). */
  quarantine?: QuarantineOptions
  /**
   * Candidates sized exactly per search, the float look's best (see SearchOptions.maxSized): at
   * most 64 trades a block are taken, and sizing thousands in a busy market cost most of the
   * search. The rest are searched again next block. Default 256.
   */
  maxSized?: number
  /**
   * Every cycle is searched (not only those through pools that changed) at the first search, after
   * `requestFullLook()` (a reconnect), when one poll brought more than `gapBlocks` blocks, and at
   * least every this many blocks. Default 64.
   */
  fullLookEveryBlocks?: number
  /** A poll that brings more than this many blocks at once (the engine fell behind) searches every cycle. Default 2. */
  gapBlocks?: number
  /** How long the breaker stays open before one trial trade (half-open). Default 60,000 ms. */
  breakerCooldownMs?: number
}

export interface ArbEngineModules {
  graph: TokenGraph
  tracker: PoolTracker
  executor: ExecutorClient
  public: PublicClient
  logger: Logger
  /** The kill switch: while it returns true no new trade is sent (checked before each send). */
  killed?: () => boolean
  metrics?: ArbMetrics | null
  /** Milliseconds, monotonic (default performance.now): search and block-to-transaction timings, the breaker's cooldown. */
  now?: () => number
  /** The live limits (the service's configuration table); `opts.limits` when absent. */
  limits?: () => RiskLimits
  /** Limits the engine does not hold itself: per-token exposure, the daily loss (the service's RiskGuard). */
  risk?: RiskHooks | null
  /** Gives each trade its nonce (one owner per signing account); the wallet's own when absent. */
  nonces?: NonceSource | null
  /** Worker threads for the exact sizing (over `graph`); on this thread when absent. */
  sizing?: SizingPool | null
  /** Cycles and tokens sitting out; the engine keeps its own (`opts.quarantine`) when absent. */
  quarantine?: Quarantine | null
  /** Tokens' transfer fees (learned from simulations); the engine keeps its own when absent. */
  fees?: TransferFees | null
}

/** What the engine asks and tells the risk state around it (see risk/guard.ts). */
export interface RiskHooks {
  /** A reason not to take `o` now, or null. */
  allow(o: Opportunity): string | null
  /** `o` was sent: its input is in flight. */
  sent(o: Opportunity): void
  /** `o` settled; `realized` = its profit less its gas, in base units (negative when it reverted). */
  settled(o: Opportunity, realized: bigint): void
}

/** Nonces for the signing account (see execution/nonce-manager.ts). */
export interface NonceSource {
  next(): Promise<number>
  /** The transaction with `nonce` was mined (or dropped). */
  settled(nonce: number): void
  /** A send failed: the nonce may not have been used; read the account's nonce again. */
  resync(): Promise<void>
}
