import type { Chain } from '@cairn/chain'
import {
  DEFAULT_RPC_SERVER_OPTIONS,
  type DevControls,
  type RpcContext,
  type RpcDispatcher,
  type RpcMetrics,
  RpcServer,
} from '@cairn/rpc'
import {
  type HealthChecks,
  MemoryRateLimitStore,
  type RateLimitStore,
  RedisRateLimitStore,
  type Shutdown,
} from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { rpcServerSettings } from '../config/rpc-settings.ts'
import type { NodeConfig } from '../config/schema.ts'
import { dagPage } from '../dag-page/dag-page.ts'
import type { DatadirLayout } from '../datadir.ts'
import type { CorruptionWatch } from '../db-corruption.ts'
import { ReadThreadPool } from '../rpc-threads/pool.ts'
import { codeSizeLimitOf } from './chain.ts'
import type { StorageModule } from './storage.ts'

/** See `beforeListen` of `startNode`. */
export type BeforeListen = (node: { chain: Chain; dev: DevControls | null; dispatcher: RpcDispatcher }) => Promise<void>

/** The RPC server, listening, and its read threads. */
export interface RpcModule {
  rpc: RpcServer
  url: string
  /** The RPC read threads (`rpc.threads`), or null. */
  readThreads: ReadThreadPool | null
  /** The read threads when they listen on the port themselves (their metrics page serves all threads), or null. */
  listening: ReadThreadPool | null
  /** What `http.maxConnections` came to (shared with listening threads), and the per-IP cap. */
  maxConnections: number
  maxConnectionsPerIp: number
}

/**
 * Opens the RPC server (HTTP and WebSocket) with its rate-limit store and read threads, runs
 * `beforeListen`, then listens. Read threads (`--rpc.threads`) answer HTTP bodies of pure reads;
 * where Node can share the port (reusePort), each thread also listens on it itself.
 */
export async function openRpc(
  config: NodeConfig,
  modules: {
    logger: Logger
    shutdown: Shutdown
    chain: Chain
    datadir: DatadirLayout | null
    storage: StorageModule
    registry: Registry
    corruption: CorruptionWatch
    ctx: RpcContext
    dispatcher: RpcDispatcher
    metrics: RpcMetrics
    health: HealthChecks
    dev: DevControls | null
    beforeListen: BeforeListen | undefined
  },
): Promise<RpcModule> {
  const { logger, shutdown, chain, datadir, ctx, dispatcher, health, registry } = modules
  const { readThreads, threadListeners } = modules.storage
  const rateLimitStore = await openRateLimitStore(config, { logger: ctx.logger, registry, shutdown })
  const serverOptions = { ...DEFAULT_RPC_SERVER_OPTIONS, ...rpcServerSettings(config) }
  const listeners = readThreads > 0 && threadListeners
  // Each listener holds its own connections, all on this process's descriptors: they share the limit.
  if (listeners && serverOptions.maxConnections > 0) {
    serverOptions.maxConnections = Math.max(1, Math.floor(serverOptions.maxConnections / (readThreads + 1)))
  }
  const codeSizeLimit = codeSizeLimitOf(config)
  // A GhostDAG node draws its DAG at GET /dag (on every listener); other engines have no such page (404).
  const pages = ctx.dag ? { pages: [dagPage()] } : {}
  const threadPool =
    datadir && readThreads > 0
      ? new ReadThreadPool(
          {
            threads: readThreads,
            chaindata: datadir.chaindata,
            limits: ctx.limits,
            clientVersion: ctx.clientVersion,
            ...(ctx.buildCommit ? { buildCommit: ctx.buildCommit } : {}),
            ...(config.reference ? { reference: true } : {}),
            ...(codeSizeLimit !== undefined ? { codeSizeLimit } : {}),
            ...(chain.genesis.shard ? { shard: chain.genesis.shard } : {}),
            ...(listeners ? { listener: { server: { ...withoutPort(serverOptions), ...pages } } } : {}),
          },
          { chain, logger: logger.child({ module: 'rpc-threads' }), registry, onCorruption: modules.corruption.report },
        )
      : null
  // The pool when its threads listen on the port themselves.
  const listening = threadPool && listeners ? threadPool : null
  if (threadPool) {
    shutdown.add('rpc read threads', () => threadPool.close())
    // Not waited for (each opens the chain: ~250 ms): the main thread answers everything until a
    // thread is ready, and a thread that becomes ready after the port is bound listens then.
    void threadPool
      .whenStarted()
      .then(() => logger.info({ threads: readThreads, ready: threadPool.readyThreads }, 'rpc read threads started'))
  }
  const rpc = new RpcServer(
    { ...serverOptions, ...(listeners ? { reusePort: true } : {}) },
    {
      dispatcher: listening ? listening.mainDispatcher(dispatcher) : dispatcher,
      ctx,
      registry,
      ...(listening ? { metricsPage: listening.metricsPage } : {}),
      ...pages,
      metrics: modules.metrics,
      logger: ctx.logger,
      health,
      rateLimitStore,
      // With listeners of their own the threads take their share of connections: the main thread
      // answers what reaches it (handing reads over too would leave it idle and a thread doubly busy).
      readThreads: listening ? null : threadPool,
    },
  )
  await modules.beforeListen?.({ chain, dev: modules.dev, dispatcher })
  const url = await rpc.listen()
  shutdown.add('rpc', () => rpc.close())
  if (listening) {
    // Each thread logs when its listener is up (those still opening the chain listen once ready).
    await listening.listen(rpc.port, { dispatcher, health, rateLimitStore })
  } else if (threadPool) {
    logger.info(
      { node: process.version },
      'rpc read threads answer reads the main thread hands them (one listener: reusePort needs Node ≥ 22.12 on Linux)',
    )
  }
  return {
    rpc,
    url,
    readThreads: threadPool,
    listening,
    maxConnections: serverOptions.maxConnections,
    maxConnectionsPerIp: serverOptions.maxConnectionsPerIp,
  }
}

/** The rate limiter's store: Redis (`rateLimit.store = redis`, shared by several nodes) or in memory. */
async function openRateLimitStore(
  config: NodeConfig,
  modules: { logger: Logger; registry: Registry; shutdown: Shutdown },
): Promise<RateLimitStore> {
  if (config.rateLimit.store !== 'redis' || !config.rateLimit.redisUrl) return new MemoryRateLimitStore()
  const store = new RedisRateLimitStore(
    { url: config.rateLimit.redisUrl },
    { logger: modules.logger, registry: modules.registry },
  )
  await store.open()
  modules.shutdown.add('rate-limit store', () => store.close())
  return store
}

/** The RPC server's settings for a read thread's listener (its port comes when the main thread has bound it). */
function withoutPort<T extends { port: number }>(opts: T): Omit<T, 'port'> {
  const { port: _port, ...rest } = opts
  return rest
}
