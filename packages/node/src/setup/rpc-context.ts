import type { Chain } from '@cairn/chain'
import {
  ALL_METHODS,
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  type DevControls,
  NO_NETWORK,
  type RpcContext,
  RpcDispatcher,
  type RpcLimits,
  type RpcMetrics,
  type RpcNetwork,
} from '@cairn/rpc'
import type { Tracing } from '@cairn/service-kit'
import type { TxPool } from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { effectiveNamespaces, effectiveProfile, servesTestingNamespace } from '../config/profile.ts'
import type { NodeConfig } from '../config/schema.ts'
import { accountSigner, type DevAccount } from '../dev-accounts.ts'
import { redactUrl } from '../fork-mode.ts'
import { buildCommit, clientVersion, devClientVersion } from '../version.ts'
import type { ForkStart } from './chain.ts'
import type { EngineModule } from './engine.ts'

/** What every RPC method handler may use, and the dispatcher that answers with it. */
export interface RpcDispatchModule {
  ctx: RpcContext
  dispatcher: RpcDispatcher
  metrics: RpcMetrics
}

/** Builds the RPC methods' context from the node's modules, and the main thread's dispatcher. */
export function openDispatcher(
  config: NodeConfig,
  modules: {
    logger: Logger
    chain: Chain
    pool: TxPool
    engine: EngineModule
    network: RpcNetwork | null
    accounts: DevAccount[]
    fork: ForkStart | undefined
    registry: Registry
    tracing: Tracing
    rpcLimits: Partial<RpcLimits>
    clockMs: (() => number) | undefined
  },
): RpcDispatchModule {
  const { engine, fork, clockMs } = modules
  const metrics = createRpcMetrics(modules.registry)
  const validatorSets = engine.capabilities.validatorSets
  const ctx: RpcContext = {
    chain: modules.chain,
    pool: modules.pool,
    // Estimates and `pending` calls run in the block the engine would seal next.
    producer: engine.engine,
    // A follower's chain is the producer's: no local sealing or state edits (evm_mine, anvil_*).
    dev: devControls(config, engine),
    // The network slot: the p2p network (peers, sync) when enabled.
    network: modules.network ?? NO_NETWORK,
    ...(validatorSets ? { consensus: validatorSets } : {}),
    // A proof-of-work engine's work API (eth_getWork, eth_submitWork, …).
    ...(engine.capabilities.work ? { mining: engine.capabilities.work } : {}),
    // A GhostDAG engine's DAG (cairn_getDagInfo, cairn_getBlockDagData).
    ...(engine.capabilities.dag ? { dag: engine.capabilities.dag } : {}),
    accounts: accountSigner(modules.accounts),
    clientVersion: config.rpc.clientVersion ?? (config.dev && !config.follow ? devClientVersion() : clientVersion()),
    ...(fork
      ? {
          forked: {
            url: redactUrl(fork.url),
            chainId: fork.chainId,
            blockNumber: fork.blockNumber,
            blockHash: fork.block.hash,
            retryBackoffMs: config.fork.retryBackoffMs,
          },
        }
      : {}),
    buildCommit: buildCommit(),
    limits: {
      ...DEFAULT_RPC_LIMITS,
      bodyLimit: config.http.maxRequestBytes,
      ...(config.rpc.evmTimeoutMs !== undefined ? { evmTimeoutMs: config.rpc.evmTimeoutMs } : {}),
      // Anvil's receipts carry blockTimestamp; geth's (a production node's) do not.
      receiptTimestamps: config.dev,
      ...modules.rpcLimits,
    },
    allowUnprotectedTxs: config.rpc.allowUnprotectedTxs ?? effectiveProfile(config) === 'dev',
    ...(clockMs ? { clockMs } : {}),
    logger: modules.logger.child({ module: 'rpc' }),
    metrics,
  }
  const dispatcher = new RpcDispatcher(
    {
      dev: config.dev && !config.follow,
      testing: servesTestingNamespace(config) && !config.follow,
      namespaces: effectiveNamespaces(config),
    },
    { ctx, methods: ALL_METHODS, metrics, logger: ctx.logger, tracer: modules.tracing.tracer },
  )
  return { ctx, dispatcher, metrics }
}

/** The dev controls the RPC serves: none on a follower (its chain is the producer's). */
export function devControls(config: NodeConfig, engine: EngineModule): DevControls | null {
  return config.follow ? null : engine.dev
}
