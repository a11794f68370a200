import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  type Chain,
  ChainErrorCode,
  Chain as ChainImpl,
  connectFork,
  createChainMetrics,
  DEFAULT_BLOCK_PROCESSOR_OPTIONS,
  UNLIMITED_CODE_SIZE,
  workerRecovery,
} from '@cairn/chain'
import { BftEngine, byzantineTransport, type Engine } from '@cairn/consensus'
import { blobKzg, createCustomCrypto, cryptoBackends, initCrypto, RecoverPool } from '@cairn/crypto'
import { Bucket, bucketKey, type KVStore, LevelKV, MemoryKV } from '@cairn/db'
import type { P2pNetwork } from '@cairn/p2p'
import {
  ALL_METHODS,
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  DEFAULT_RPC_SERVER_OPTIONS,
  type DevControls,
  NO_NETWORK,
  type RpcContext,
  RpcDispatcher,
  type RpcLimits,
  RpcServer,
} from '@cairn/rpc'
import {
  createMetricsRegistry,
  createTracing,
  HealthChecks,
  MemoryRateLimitStore,
  MetricsServer,
  RedisRateLimitStore,
  Shutdown,
  setLogLevels,
  type Tracing,
} from '@cairn/service-kit'
import { createTxPoolMetrics, DEFAULT_TXPOOL_OPTIONS, followChain, TxJournal, TxPool } from '@cairn/txpool'
import { CairnError, type Logger } from '@cairn/utils'
import type { ConfigInputs } from './config/load.ts'
import { effectiveNamespaces, effectiveProfile, servesTestingNamespace } from './config/profile.ts'
import { ConfigReloader } from './config/reload.ts'
import { rpcSecurity, rpcServerSettings } from './config/rpc-settings.ts'
import type { NodeConfig } from './config/schema.ts'
import { type DatadirLayout, datadirLayout, prepareDatadir } from './datadir.ts'
import { CorruptionWatch } from './db-corruption.ts'
import { accountSigner, type DevAccount, devAccounts } from './dev-accounts.ts'
import { startDurability } from './durability.ts'
import { createEngine } from './engine.ts'
import { forkConfig, forkHardfork, forkOptions, fundForkAccounts, redactUrl } from './fork-mode.ts'
import { openHsmIdentity } from './hsm-identity.ts'
import { loadNodeKeys } from './keys/node-keys.ts'
import { exportCountersAtZero } from './metrics-at-zero.ts'
import { nodeGenesis } from './node-genesis.ts'
import { headFreshness, networkReady, rpcAccepts } from './readiness.ts'
import { ReadThreadPool } from './rpc-threads/pool.ts'
import { readThreadCount, reusePortSupported } from './rpc-threads/thread-count.ts'
import { traceComponents } from './traced.ts'
import { buildCommit, clientVersion, devClientVersion, VERSION } from './version.ts'

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
export type BeforeListen = (node: Pick<StartedNode, 'chain' | 'dev' | 'dispatcher'>) => Promise<void>

/**
 * The composition root: the only place that constructs implementations and wires them, in order
 * db → metrics → chain → txpool → engine → rpc, and closes them in reverse.
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
  const backends = await initCrypto()
  logger.debug({ ...backends }, 'crypto backends')
  if (backends.secp256k1 !== 'native') {
    logger.warn(
      { reason: backends.secp256k1FallbackReason },
      'native secp256k1 unavailable: signature checks run in JS (slower)',
    )
  }

  const accounts = config.dev
    ? devAccounts(config.dev_accounts.mnemonic, config.dev_accounts.count, config.dev_accounts.derivationPath)
    : []
  // Fork mode (--fork-url): the chain starts at the remote's block, its state fetched as the state
  // managers walk to it (packages/chain/src/fork/).
  const forking = config.fork.url !== undefined
  const genesis = forking ? undefined : nodeGenesis(config, accounts)

  const datadirRoot = config.datadir ?? (config.dev ? '.cairn/dev' : '.cairn/node')
  // Refused before anything is created: a start that cannot run leaves no datadir (LevelDB, keys) behind.
  if (!forking && !config.ephemeral && genesis === undefined && !existsSync(datadirLayout(datadirRoot).chaindata)) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, 'the datadir holds no chain and no genesis was given', {
      fault: 'caller',
      hint: 'run `cairn init --genesis FILE --datadir DIR` or start with --dev',
    })
  }
  const datadir = config.ephemeral ? null : prepareDatadir(datadirRoot)
  // An identity on an HSM: DATADIR/keys/node.key is neither read nor made.
  const identityInFile = config.p2p.identity.kind === 'file'
  const nodeKeys = datadir
    ? loadNodeKeys(datadir, { validator: config.keys.validator, identity: identityInFile })
    : null
  if (nodeKeys?.recovered) {
    const { current, retiredPath } = nodeKeys.recovered
    logger.info(
      { key: current.address, retired: retiredPath },
      'completed the interrupted promotion of the next validator key (validator.next.key, its ML-DSA seed)',
    )
  }
  // Closed last: spans of the shutdown itself are still exported.
  const tracing =
    givenTracing ??
    (await createTracing({ ...config.tracing, serviceName: 'cairn-node', version: VERSION }, { logger }))
  shutdown.add('tracing', () => tracing.shutdown())
  // Read threads open the same LevelDB beside this thread: every opener of it must say so.
  const canListen = config.rpc.threadListeners && reusePortSupported()
  // A fork's read threads would miss the remote (their stores do not fetch): none.
  const readThreads = datadir && !forking ? readThreadCount(config.rpc.threads, canListen) : 0
  if (!datadir && config.rpc.threads !== 'auto' && config.rpc.threads > 0) {
    logger.info(
      { threads: config.rpc.threads },
      'rpc.threads ignored with --ephemeral: an in-memory store cannot be shared',
    )
  }
  const registry = createMetricsRegistry({ version: VERSION, commit: buildCommit(), datadir: datadir?.root })
  // A read that finds the database damaged is logged, counted and turns /ready red (DB_CORRUPT).
  const corruption = new CorruptionWatch({}, { logger: logger.child({ module: 'db' }), registry })
  // The node identity on a token: opened before anything listens (a wrong PIN is a start error),
  // closed after the p2p network stops.
  const identityConfig = config.p2p.identity
  const hsmIdentity =
    identityConfig.kind === 'hsm' && p2pEnabled(config)
      ? await openHsmIdentity(identityConfig, {
          logger,
          registry,
          keysDir: datadir ? join(datadir.root, 'keys') : null,
        })
      : null
  if (hsmIdentity) shutdown.add('hsm node identity', async () => hsmIdentity.close())
  const kv: KVStore = datadir
    ? new LevelKV({ path: datadir.chaindata, multithreading: readThreads > 0 }, { onCorruption: corruption.report })
    : new MemoryKV()
  await kv.open()
  shutdown.add('database', () => kv.close())

  const chainLogger = logger.child({ module: 'chain' })

  // Signature recovery on worker threads (native secp256k1 only): admission overlaps with sealing,
  // and a received block's senders are recovered in parallel before it executes.
  const recoverPool = RecoverPool.create()
  if (recoverPool) shutdown.add('recovery workers', () => recoverPool.close())
  const recovery = recoverPool ? workerRecovery(recoverPool) : undefined

  // The engine is built once; the chain opens with it as its rules, and it is attached to the chain
  // and the pool below (two phases).
  let halt: (err: CairnError) => void = () => {}
  const halted = new Promise<CairnError>((resolve) => {
    halt = resolve
  })
  const {
    engine,
    dev,
    close: closeEngine,
    promotion,
  } = await createEngine(config, {
    onHalt: (err) => halt(err),
    logger: logger.child({ module: 'engine' }),
    genesis,
    kv,
    keys: nodeKeys,
    keysDir: datadir ? join(datadir.root, 'keys') : null,
    signerStatePath: datadir ? join(datadir.root, 'keys', 'validator.state.json') : null,
    walDir: datadir ? join(datadir.root, 'consensus-wal') : null,
    registry,
  })
  // The remote signer's connection closes after the engine stops (shutdown runs in reverse).
  if (closeEngine) shutdown.add('remote signer', async () => closeEngine())
  const fork = forking ? await connectFork(forkOptions(config)) : undefined
  // Anvil's --code-size-limit / --disable-code-size-limit: dev rules (the read threads take them too).
  const codeSizeLimit = !config.dev
    ? undefined
    : config.devChain.disableCodeSizeLimit
      ? UNLIMITED_CODE_SIZE
      : config.devChain.codeSizeLimit
  const chain = await ChainImpl.open(
    {
      genesis,
      ...(fork ? { fork, ...(config.devChain.hardfork ? { forkHardfork: forkHardfork(config) } : {}) } : {}),
      genesisSource: config.genesis ?? 'dev genesis',
      // A dev chain's clock moves at will (evm_increaseTime, anvil_mine): its followers accept
      // timestamps ahead of their own clock.
      ...(config.dev ? { blocks: { maxFutureSeconds: 2 ** 40 } } : {}),
      stateCacheBytes: config.cache.state * 2 ** 20,
      ...(config.reference ? { reference: true } : {}),
      ...(codeSizeLimit !== undefined ? { codeSizeLimit } : {}),
    },
    {
      kv,
      engine,
      logger: chainLogger,
      metrics: createChainMetrics(registry),
      customCrypto: createCustomCrypto(),
      onCorruption: corruption.report,
      ...(recovery ? { recovery } : {}),
    },
  )
  // Now that the head is known, complete a validator key rotation whose height it has reached.
  if (datadir) {
    loadNodeKeys(datadir, {
      validator: config.keys.validator,
      identity: identityInFile,
      headNumber: chain.head.header.number,
    })
  }
  for (const w of chain.report.warnings) logger.warn(w)
  if (fork) {
    logger.info({ url: redactUrl(fork.url), block: Number(fork.blockNumber), chainId: Number(fork.chainId) }, 'forked')
    if (chain.report.created) await fundForkAccounts(chain, accounts, config.dev_accounts.balance)
  }
  traceComponents(tracing.tracer, { kv, chain })
  logger.info(
    { number: Number(chain.head.header.number), chainId: Number(chain.chainId), hardfork: chain.genesis.hardfork },
    chain.report.created ? 'new chain' : 'resuming chain',
  )

  // Local transactions survive a restart and a crash: each is appended (and synced, in groups)
  // before its hash is answered, reloaded (and revalidated) at start, and the file is compacted on
  // shutdown and every `rejournal` seconds. Nothing is kept with --ephemeral.
  const journal =
    datadir && config.txpool.journal
      ? new TxJournal(
          { path: `${datadir.root}/txpool.journal`, rejournal: config.txpool.rejournal },
          {
            // The journal and the pool refer to each other: the pool is made just below.
            pool: {
              locals: () => pool.locals(),
              add: (tx, o) => pool.add(tx, o),
              get counts() {
                return pool.counts
              },
            },
            common: chain.common,
            logger: logger.child({ module: 'txpool' }),
          },
        )
      : null
  const pool: TxPool = new TxPool(
    {
      ...DEFAULT_TXPOOL_OPTIONS,
      minTip: config.txpool.minTip ?? (config.dev ? 0n : DEFAULT_TXPOOL_OPTIONS.minTip),
      priceBump: config.txpool.priceBump,
      globalSlots: config.txpool.globalSlots,
      globalQueue: config.txpool.globalQueue,
      accountSlots: config.txpool.accountSlots,
      accountQueue: config.txpool.accountQueue,
      lifetime: config.txpool.lifetime,
      // A flood of local transactions waits for blocks before the pool is full (dev mode only).
      ...(config.dev ? { holdSendersAt: Math.max(1, Math.floor((config.txpool.globalSlots * 3) / 4)) } : {}),
    },
    {
      stateAt: (root) => chain.stateAt(root),
      stateRootOf: (head) => chain.postStateRoot(head),
      head: chain.head.header,
      logger: logger.child({ module: 'txpool' }),
      metrics: createTxPoolMetrics(registry),
      ...(recovery ? { recovery } : {}),
      ...(journal ? { journal } : {}),
    },
  )
  await journal?.load()
  pool.start()
  journal?.start()
  shutdown.add('txpool', async () => {
    pool.stop()
    await journal?.stop()
  })

  // The pool learns of new heads and reorgs from the chain's events, wherever a block came from.
  const follower = followChain(pool, chain.events, { logger: logger.child({ module: 'txpool' }) })
  shutdown.add('txpool follower', async () => {
    follower.stop()
    await follower.settled()
  })
  engine.attach({ chain, pool, follower })
  // anvil_dumpState needs the addresses and slots in the clear (the trie keeps their hashes). A
  // follower serves no dev methods and writes no state file (`--dump-state` is for a producer):
  // nothing of it would read them.
  if (config.dev && !config.follow) chain.dev.recordPreimages()
  // libp2p is imported only when the network is on: its ~400 ms of module loading is most of a
  // dev node's start (the bundle keeps it in a chunk of its own).
  const p2p = p2pEnabled(config) ? await import('@cairn/p2p') : null
  const network: P2pNetwork | null = p2p
    ? await p2p.P2pNetwork.start(
        {
          ...p2p.parseP2pConfig({
            host: config.p2p.addr,
            port: config.p2p.port,
            bootnodes: config.p2p.bootnodes,
            announce: config.p2p.announce,
            maxPeers: config.p2p.maxPeers,
            maxPeersPerIp: config.p2p.maxPeersPerIp,
            inboundRatePerIp: config.p2p.inboundRatePerIp,
            maxPendingPerIp: config.p2p.maxPendingPerIp,
            handshakeTimeoutMs: config.p2p.handshakeTimeoutMs,
            limitsExempt: config.p2p.limitsExempt,
            dht: config.p2p.dht,
            banSeconds: config.p2p.banSeconds,
          }),
          dir: datadir ? prepareP2pDir(datadir.root) : null,
          ...(nodeKeys?.identity ? { identityKey: nodeKeys.identity.privateKey } : {}),
          maxBlockBytes: DEFAULT_BLOCK_PROCESSOR_OPTIONS.maxBlockBytes,
          // A BFT network carries its blocks in proposals and commits (the consensus topic): heads
          // announced on the blocks topic too would have validators execute them a second time.
          announceHeads: !config.follow && !(engine instanceof BftEngine),
        },
        {
          chain,
          pool,
          logger: logger.child({ module: 'p2p' }),
          metrics: p2p.createP2pMetrics(registry),
          identity: hsmIdentity?.identity ?? null,
        },
      )
    : null
  if (network) shutdown.add('p2p', () => network.stop())
  // The BFT engine talks on the consensus topic.
  if (network && engine instanceof BftEngine) {
    // The testbed's byzantine validator (config testbed.byzantine, honoured only with CAIRN_TESTBED=1).
    const key = nodeKeys?.validator?.current.privateKey
    const byz = config.testbed.byzantine
    engine.connect(
      byz !== 'none' && key !== undefined
        ? byzantineTransport(
            network.consensus,
            { mode: byz, chainId: BigInt(chain.chainId), privateKey: key },
            { logger: logger.child({ module: 'byzantine' }) },
          )
        : network.consensus,
    )
  }
  if (config.follow) logger.info('follower: producing nothing, following the chain of peers')
  // A BFT node always runs its engine: a validator votes, any other node follows the commits.
  if (engine instanceof BftEngine || (config.mining && !config.follow)) {
    await engine.start()
    shutdown.add('engine', () => engine.stop())
    // A key rotation under way: the next key is promoted once the chain has taken it (now, or at a new head).
    const stopPromotion = promotion?.follow(chain)
    if (stopPromotion) shutdown.add('key promotion', async () => stopPromotion())
  } else {
    logger.info('block production off (mining = false): the head moves only by import')
  }

  const rpcMetrics = createRpcMetrics(registry)
  const ctx: RpcContext = {
    chain,
    pool,
    // Estimates and `pending` calls run in the block the engine would seal next.
    producer: engine,
    // A follower's chain is the producer's: no local sealing or state edits (evm_mine, anvil_*).
    dev: config.follow ? null : dev,
    // The network slot: the p2p network (peers, sync) when enabled.
    network: network ?? NO_NETWORK,
    ...(engine instanceof BftEngine ? { consensus: engine } : {}),
    accounts: accountSigner(accounts),
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
      ...rpcLimits,
    },
    allowUnprotectedTxs: config.rpc.allowUnprotectedTxs ?? effectiveProfile(config) === 'dev',
    ...(clockMs ? { clockMs } : {}),
    logger: logger.child({ module: 'rpc' }),
    metrics: rpcMetrics,
  }
  const dispatcher = new RpcDispatcher(
    {
      dev: config.dev && !config.follow,
      testing: servesTestingNamespace(config) && !config.follow,
      namespaces: effectiveNamespaces(config),
    },
    { ctx, methods: ALL_METHODS, metrics: rpcMetrics, logger: ctx.logger, tracer: tracing.tracer },
  )
  const health = new HealthChecks()
  health.register('db', async () => {
    await corruption.check()
    await probeDb(kv)
  })
  // Without block production the head moves only by import: pending transactions are not a stuck head.
  // A BFT node always runs its engine: a validator votes, any other node follows the commits.
  if (engine instanceof BftEngine || (config.mining && !config.follow)) {
    health.register('head', headFreshness({ blockTime: config.blockTime, stuckAfterMs: 30_000 }, { chain, pool }))
  }
  health.register('rpc', rpcAccepts({ dispatcher }))
  if (network) health.register('network', networkReady({ minPeers: config.p2p.minPeers }, { network }))
  const rateLimitStore =
    config.rateLimit.store === 'redis' && config.rateLimit.redisUrl
      ? new RedisRateLimitStore({ url: config.rateLimit.redisUrl }, { logger: ctx.logger, registry })
      : new MemoryRateLimitStore()
  if (rateLimitStore instanceof RedisRateLimitStore) {
    await rateLimitStore.open()
    shutdown.add('rate-limit store', () => rateLimitStore.close())
  }
  // Read threads (`--rpc.threads`): HTTP bodies of pure reads are answered on worker threads.
  // Where Node can share the port (reusePort), each thread also listens on it itself.
  const serverOptions = { ...DEFAULT_RPC_SERVER_OPTIONS, ...rpcServerSettings(config) }
  const listeners = readThreads > 0 && canListen
  // Each listener holds its own connections, all on this process's descriptors: they share the limit.
  if (listeners && serverOptions.maxConnections > 0) {
    serverOptions.maxConnections = Math.max(1, Math.floor(serverOptions.maxConnections / (readThreads + 1)))
  }
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
            ...(listeners ? { listener: { server: withoutPort(serverOptions) } } : {}),
          },
          { chain, logger: logger.child({ module: 'rpc-threads' }), registry, onCorruption: corruption.report },
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
      metrics: rpcMetrics,
      logger: ctx.logger,
      health,
      rateLimitStore,
      // With listeners of their own the threads take their share of connections: the main thread
      // answers what reaches it (handing reads over too would leave it idle and a thread doubly busy).
      readThreads: listening ? null : threadPool,
    },
  )
  await beforeListen?.({ chain, dev: config.follow ? null : dev, dispatcher })
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
  const metricsServer =
    config.metrics.port === undefined
      ? null
      : new MetricsServer(
          { host: config.metrics.host, port: config.metrics.port },
          { registry: listening ? listening.metricsPage : registry, health, logger },
        )
  const metricsUrl = (await metricsServer?.listen()) ?? null
  if (metricsServer) shutdown.add('metrics', () => metricsServer.close())
  if (metricsUrl) logger.info({ metrics: `${metricsUrl}/metrics` }, 'metrics listener')
  if (datadir) await startDurability(config, { kv, datadir, registry, logger, shutdown })
  // Every labelled counter with a closed set of values, at 0 from the start (alert rules need a series).
  exportCountersAtZero(registry)
  logger.info(
    {
      url,
      ws: url.replace(/^http/, 'ws'),
      datadir: datadir?.root ?? '(ephemeral)',
      // What `http.maxConnections = auto` came to (half the open-file limit), and the per-IP cap.
      maxConnections: serverOptions.maxConnections,
      maxConnectionsPerIp: serverOptions.maxConnectionsPerIp,
    },
    `listening on ${url}`,
  )
  // The blob KZG setup (~4–5 s of CPU, on its own worker thread) a second after the node answers:
  // the first blob transaction then does not wait for it, and a node closed sooner never pays it.
  const kzgPrep = setTimeout(() => blobKzg().prepare(), 1000).unref()
  shutdown.add('kzg prepare', async () => clearTimeout(kzgPrep))

  return {
    chain,
    pool,
    engine,
    dev,
    rpc,
    url,
    datadir,
    accounts,
    health,
    kv,
    metricsUrl,
    dispatcher,
    readThreads: threadPool,
    halted,
    close: () => shutdown.close(),
  }
}

const PROBE_KEY = bucketKey(Bucket.meta, new TextEncoder().encode('health-probe'))

/** Readiness of the database: a probe key in the meta bucket can be written and deleted. */
async function probeDb(kv: KVStore): Promise<void> {
  await kv.put(PROBE_KEY, new TextEncoder().encode(String(Date.now())))
  await kv.del(PROBE_KEY)
}

export { cryptoBackends }

/** P2p is on when asked (`p2p.enabled`), for a follower, and by default outside --dev. */
export function p2pEnabled(config: NodeConfig): boolean {
  return config.p2p.enabled ?? (config.follow || !config.dev)
}

function prepareP2pDir(root: string): string {
  const dir = `${root}/p2p`
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return dir
}

/** The RPC server's settings for a read thread's listener (its port comes when the main thread has bound it). */
function withoutPort<T extends { port: number }>(opts: T): Omit<T, 'port'> {
  const { port: _port, ...rest } = opts
  return rest
}
