import type { Chain } from '@cairn/chain'
import type { Engine } from '@cairn/consensus'
import { blobKzg, cryptoBackends } from '@cairn/crypto'
import type { KVStore } from '@cairn/db'
import type { DevControls, RpcDispatcher, RpcLimits, RpcServer } from '@cairn/rpc'
import { type HealthChecks, Shutdown, setLogLevels, type Tracing } from '@cairn/service-kit'
import type { TxPool } from '@cairn/txpool'
import type { CairnError, Logger } from '@cairn/utils'
import type { ConfigInputs } from './config/load.ts'
import { ConfigReloader } from './config/reload.ts'
import { rpcSecurity } from './config/rpc-settings.ts'
import type { NodeConfig } from './config/schema.ts'
import type { DatadirLayout } from './datadir.ts'
import type { DevAccount } from './dev-accounts.ts'
import { startDurability } from './durability.ts'
import { forkConfig } from './fork-mode.ts'
import { exportCountersAtZero } from './metrics-at-zero.ts'
import type { ReadThreadPool } from './rpc-threads/pool.ts'
import { openChain, openRecovery } from './setup/chain.ts'
import { initCryptoBackends } from './setup/crypto.ts'
import { openDatadir } from './setup/datadir.ts'
import { openEngine, startEngine } from './setup/engine.ts'
import { openHealth } from './setup/health.ts'
import { openMetricsListener } from './setup/metrics-listener.ts'
import { openNetwork, openNodeIdentity } from './setup/network.ts'
import { openPool } from './setup/pool.ts'
import { type BeforeListen, openRpc } from './setup/rpc.ts'
import { devControls, openDispatcher } from './setup/rpc-context.ts'
import { openStorage } from './setup/storage.ts'
import { openTelemetry } from './setup/telemetry.ts'
import { tracePool } from './traced.ts'

/** What a started node exposes to the CLI and to tests. */
export interface StartedNode {
  chain: Chain
  pool: TxPool
  /** The consensus engine (config `engine`). */
  engine: Engine
  /** Dev-chain controls (evm_mine, time, snapshots, state edits); null outside dev mode. */
  dev: DevControls | null
  rpc: RpcServer
  url: string
  datadir: DatadirLayout | null
  accounts: DevAccount[]
  /** The readiness checks behind `/ready`. */
  health: HealthChecks
  /** The chain database. */
  kv: KVStore
  /** The separate metrics listener (`metrics.port`), or null. */
  metricsUrl: string | null
  /** The main thread's dispatcher (what answers every request read threads do not). */
  dispatcher: RpcDispatcher
  /** The RPC read threads (`rpc.threads`), or null. */
  readThreads: ReadThreadPool | null
  /**
   * Settles when the node must stop on its own: the chain reached a scheduled upgrade this build
   * does not know (`CONSENSUS_UPGRADE_REQUIRED`); never settles otherwise.
   */
  halted: Promise<CairnError>
  close(): Promise<void>
}

/** See `beforeListen` of {@link startNode}. */
export type { BeforeListen }

/**
 * The composition root: the only place that constructs implementations and wires them, in order
 * datadir → telemetry → db → engine → chain → txpool → network → rpc, and closes them in reverse.
 * Each step is a named builder in `setup/` that returns a typed module and registers its own
 * shutdown; an engine plugs in through the capabilities it declares, never by its class.
 */
export async function startNode(
  config: NodeConfig,
  modules: {
    logger: Logger
    rpcLimits?: Partial<RpcLimits>
    /** The RPC's millisecond clock (filter expiry); Date.now when absent. Tests move it by hand. */
    clockMs?: () => number
    tracing?: Tracing
    /** The config's sources: given, SIGHUP and config-file changes reload the safe subset. */
    configInputs?: ConfigInputs
    /**
     * Runs once the chain, the engine and the dispatcher are up and before the RPC port opens:
     * what a client must never see half done (Anvil's --load-state, --auto-impersonate).
     */
    beforeListen?: BeforeListen
  },
): Promise<StartedNode> {
  const { logger } = modules
  const shutdown = new Shutdown(logger)
  try {
    const node = await wire(
      forkConfig(config),
      logger,
      shutdown,
      modules.rpcLimits ?? {},
      modules.tracing,
      modules.clockMs,
      modules.beforeListen,
    )
    if (modules.configInputs) {
      const reloader = new ConfigReloader(
        { inputs: modules.configInputs },
        {
          logger,
          initial: config,
          apply: (next) => {
            node.rpc.reconfigure(rpcSecurity(next))
            node.readThreads?.reconfigure(rpcSecurity(next))
            setLogLevels(logger, { level: next.log.level, modules: next.log.modules })
          },
          // A renewed TLS certificate (same paths) is served to new connections.
          refresh: () => {
            node.rpc.reloadTls()
            node.readThreads?.reloadTls()
          },
        },
      )
      reloader.start()
      shutdown.add('config reload', async () => reloader.stop())
    }
    return node
  } catch (err) {
    await shutdown.close().catch(() => {})
    throw err
  }
}

async function wire(
  config: NodeConfig,
  logger: Logger,
  shutdown: Shutdown,
  rpcLimits: Partial<RpcLimits>,
  givenTracing: Tracing | undefined,
  clockMs: (() => number) | undefined,
  beforeListen: BeforeListen | undefined,
): Promise<StartedNode> {
  await initCryptoBackends(logger)
  const { accounts, genesis, forking, datadir, nodeKeys } = openDatadir(config, { logger })
  const { tracing, registry, corruption } = await openTelemetry(config, {
    logger,
    shutdown,
    datadir,
    tracing: givenTracing,
  })
  const identity = await openNodeIdentity(config, { logger, shutdown, registry, datadir })
  const storage = await openStorage(config, { logger, shutdown, datadir, forking, corruption })
  const { kv } = storage
  const { recovery, startWorkers: startRecoveryWorkers } = openRecovery({ shutdown })

  // The engine is built once; the chain opens with it as its rules, and it is attached to the chain
  // and the pool below (two phases).
  const engine = await openEngine(config, { logger, shutdown, genesis, kv, nodeKeys, datadir, registry })
  const { chain, fork } = await openChain(config, {
    logger,
    kv,
    engine: engine.engine,
    genesis,
    datadir,
    accounts,
    registry,
    corruption,
    recovery,
    tracing,
  })
  const { pool, follower } = await openPool(config, { logger, shutdown, chain, datadir, registry, recovery })
  tracePool(tracing.tracer, pool)
  engine.engine.attach({ chain, pool, follower })
  // anvil_dumpState needs the addresses and slots in the clear (the trie keeps their hashes). A
  // follower serves no dev methods and writes no state file (`--dump-state` is for a producer):
  // nothing of it would read them.
  if (config.dev && !config.follow) chain.dev.recordPreimages()
  const network = await openNetwork(config, {
    logger,
    shutdown,
    chain,
    pool,
    engine,
    nodeKeys,
    datadir,
    registry,
    identity,
  })
  await startEngine(config, engine, { chain, logger, shutdown })

  const { ctx, dispatcher, metrics } = openDispatcher(config, {
    logger,
    chain,
    pool,
    engine,
    network,
    accounts,
    fork,
    registry,
    tracing,
    rpcLimits,
    clockMs,
  })
  const health = openHealth(config, { kv, corruption, chain, pool, engine, dispatcher, network })
  const rpc = await openRpc(config, {
    logger,
    shutdown,
    chain,
    datadir,
    storage,
    registry,
    corruption,
    ctx,
    dispatcher,
    metrics,
    health,
    dev: devControls(config, engine),
    beforeListen,
  })
  const metricsUrl = await openMetricsListener(config, { logger, shutdown, registry, health, rpc })
  if (datadir) await startDurability(config, { kv, datadir, registry, logger, shutdown })
  // Every labelled counter with a closed set of values, at 0 from the start (alert rules need a series).
  exportCountersAtZero(registry)
  const { url } = rpc
  logger.info(
    {
      url,
      ws: url.replace(/^http/, 'ws'),
      datadir: datadir?.root ?? '(ephemeral)',
      // What `http.maxConnections = auto` came to (half the open-file limit), and the per-IP cap.
      maxConnections: rpc.maxConnections,
      maxConnectionsPerIp: rpc.maxConnectionsPerIp,
    },
    `listening on ${url}`,
  )
  // The blob KZG setup (~4–5 s of CPU, on its own worker thread) a second after the node answers:
  // the first blob transaction then does not wait for it, and a node closed sooner never pays it.
  const kzgPrep = setTimeout(() => blobKzg().prepare(), 1000).unref()
  shutdown.add('kzg prepare', async () => clearTimeout(kzgPrep))
  // The signature recovery threads likewise (each boots a Node environment): the first
  // transaction before then starts them itself.
  const recoveryStart = setTimeout(startRecoveryWorkers, 1000).unref()
  shutdown.add('recovery workers start', async () => clearTimeout(recoveryStart))

  return {
    chain,
    pool,
    engine: engine.engine,
    dev: engine.dev,
    rpc: rpc.rpc,
    url,
    datadir,
    accounts,
    health,
    kv,
    metricsUrl,
    dispatcher,
    readThreads: rpc.readThreads,
    halted: engine.halted,
    close: () => shutdown.close(),
  }
}

export { p2pEnabled } from './setup/network.ts'
export { cryptoBackends }
