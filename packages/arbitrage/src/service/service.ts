// The arbitrage service composed: storage (PGlite or PostgreSQL, migrated), the signer and its nonce
// owner, the engine over a viem client, the risk guard on the configuration table, the queue
// (in-process or NATS), the runner's loop, and the HTTP API — with ordered shutdown.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  createMetricsRegistry,
  createTracing,
  fetchWithTraceContext,
  HealthChecks,
  RedisRateLimitStore,
  Shutdown,
  type Tracing,
} from '@cairn/service-kit'
import { openPglite, openPostgres, type Sql } from '@cairn/service-kit/sql'
import { CairnError, type Logger } from '@cairn/utils'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient, type Transport } from 'viem'
import { ArbEngine } from '../engine.ts'
import { ArbErrorCode } from '../errors.ts'
import { ExecutorClient, type Funding } from '../execution/executor.ts'
import { NonceManager } from '../execution/nonce-manager.ts'
import { type KeySource, loadSigner } from '../execution/signer.ts'
import { type Address, TokenGraph } from '../graph/token-graph.ts'
import { createArbMetrics } from '../metrics.ts'
import { ChainFeed } from '../pools/feed.ts'
import { type FactoryConfig, PoolTracker } from '../pools/tracker.ts'
import { reconnectingWebSocket } from '../pools/ws-transport.ts'
import { NatsQueue } from '../queue/nats-queue.ts'
import { type Claims, MemoryClaims, MemoryQueue, type OpportunityQueue } from '../queue/queue.ts'
import { RiskGuard } from '../risk/guard.ts'
import type { Quarantined } from '../risk/quarantine.ts'
import { ConfigStore } from '../store/config-store.ts'
import { migrateArb } from '../store/migrations.ts'
import { ArbStore } from '../store/store.ts'
import { SizingPool } from '../strategy/sizing-pool.ts'
import { type ArbApiOptions, createArbApi, DEFAULT_EDGE } from './app.ts'
import { type ApiKey, type AuthOptions, createAuthenticator } from './auth.ts'
import { EventHub } from './events.ts'
import { QuarantineFeed } from './quarantine-feed.ts'
import { ArbRunner, type ArbRunnerOptions } from './runner.ts'

export interface ArbServiceOptions {
  rpc: string
  /**
   * WebSocket endpoint (default: `rpc` itself when it is ws:// or wss://): `eth_subscribe` to new
   * heads and pool logs ticks at once and undoes removed logs; while the socket is down the loop
   * polls every `pollMs` and, once it is back, reconciles every pool with getReserves.
   */
  ws?: string | null
  /** PostgreSQL URL; absent: PGlite in `datadir` (null datadir: in memory). */
  databaseUrl?: string | null
  datadir: string | null
  key: KeySource
  executor: Address
  base: Address
  factories: FactoryConfig[]
  maxHops: number
  /** Worker threads for the search's exact sizing (0 or absent: on the main thread). */
  searchThreads?: number
  pollMs: number
  http: { host: string; port: number } | null
  auth: AuthOptions
  edge?: ArbApiOptions['edge']
  /** API rate limits (default: on, in memory); `redisUrl` shares the windows between instances. */
  rateLimit?: NonNullable<ArbApiOptions['rateLimit']> & { redisUrl?: string | null }
  killFile?: string | null
  queue: { kind: 'memory' } | { kind: 'nats'; servers: string; stream?: string; subject?: string }
  runner: ArbRunnerOptions
  /** Where trades' input comes from (see ExecutorClientOptions.funding; default flash). */
  funding?: Funding
  /** Shorthand of `funding` (true: flash, false: capital). */
  flash?: boolean
  /** A stuck trade is replaced after this long (0: never). */
  replaceAfterMs?: number
  /** A trade not mined this long after its first send fails as stuck and opens the breaker (default 180,000). */
  stuckTimeoutMs?: number
  /** How long the engine's breaker stays open before one trial trade (half-open; default 60,000). */
  breakerCooldownMs?: number
  /** OpenTelemetry spans (tick → search → simulate → execute) to an OTLP/HTTP collector; absent or null: off. */
  tracing?: { otlpEndpoint: string; sampleRatio?: number } | null
}

export interface ArbService {
  app: FastifyInstance
  runner: ArbRunner
  store: ArbStore
  guard: RiskGuard
  registry: Registry
  sql: Sql
  /** The bound address of the HTTP API (null without http). */
  address: string | null
  account: Address
  /** Runs one tick now (tests); the loop runs them anyway. */
  tick(): Promise<void>
  /** Puts a rotated JWT secret and/or API key list in force (the CLI watches the secret files). */
  rotateAuth(next: { jwtSecret?: Uint8Array; apiKeys?: readonly ApiKey[] }): void
  /** Resolves when the in-process queue has handled everything queued so far (NATS: at once). */
  idle(): Promise<void>
  close(): Promise<void>
}

export async function startArbService(
  opts: ArbServiceOptions,
  modules: { logger: Logger; registry?: Registry /** Tests inject one (an in-memory exporter). */; tracing?: Tracing },
): Promise<ArbService> {
  const { logger } = modules
  const shutdown = new Shutdown(logger, 15_000)
  let closed = false
  const fail = async (err: unknown) => {
    await shutdown.close().catch(() => {})
    throw err
  }
  try {
    // tracing first, closed last: spans of the shutdown itself are still exported
    const tracing =
      modules.tracing ??
      (await createTracing(
        {
          enabled: !!opts.tracing,
          otlpEndpoint: opts.tracing?.otlpEndpoint ?? '',
          sampleRatio: opts.tracing?.sampleRatio ?? 1,
          serviceName: 'cairn-arb',
          version: '0.1.0',
        },
        { logger },
      ))
    shutdown.add('tracing', () => tracing.shutdown())
    // storage first: nothing runs without its configuration
    let sql: Sql
    if (opts.databaseUrl) sql = await openPostgres(opts.databaseUrl)
    else {
      if (opts.datadir) mkdirSync(opts.datadir, { recursive: true })
      sql = await openPglite(opts.datadir ? join(opts.datadir, 'pgdata') : null)
    }
    shutdown.add('database', () => sql.close())
    const applied = await migrateArb(sql)
    if (applied.length) logger.info({ applied, driver: sql.driver }, 'database migrated')
    const store = new ArbStore(sql)
    const config = new ConfigStore(sql)
    const registry = modules.registry ?? createMetricsRegistry({ version: '0.1.0', commit: 'unknown' })
    const metrics = createArbMetrics(registry)

    const signer = await loadSigner(opts.key, { logger, registry })
    shutdown.add('signing key', async () => signer.close())
    const account = signer.account
    // a span per signature (on the remote signer, the request carries its trace context)
    tracing.tracer.wrapMethod(account, 'signTransaction', 'arb.sign', () => ({ 'arb.signer': account.address }))
    logger.info({ account: account.address, on: 'hsm' in opts.key ? 'hsm' : 'process' }, 'signer loaded')
    const owner = opts.runner.executorId
    const staleMs = Math.max(30_000, opts.pollMs * 20)
    /** Whether this executor holds its signing account's lease (it trades only then). */
    let leaseHeld = opts.runner.role !== 'strategy'
    if (opts.runner.role !== 'strategy') {
      leaseHeld = await store.holdSigner(account.address, owner, new Date(), staleMs)
      if (!leaseHeld && opts.runner.standby !== true)
        throw new CairnError(ArbErrorCode.CONFIG, `another executor holds the nonces of ${account.address}`, {
          fault: 'caller',
          hint: 'give each executor process its own signing account (one nonce owner per account), stop the other one, or start this one with --standby to take over when it stops',
        })
      if (!leaseHeld) logger.info({ account: account.address }, 'standby: another executor holds the signing lease')
      shutdown.add('signer', () => store.releaseSigner(account.address, owner))
    }

    const rpcIsWs = /^wss?:\/\//i.test(opts.rpc)
    const wsUrl = opts.ws ?? (rpcIsWs ? opts.rpc : null)
    // calls go to the RPC URL (http or ws); the subscriptions have their own socket (ChainStream)
    // over ws:// a socket reopened by the next call after the node went away (viem's webSocket
    // transport gives up for good after its reconnect attempts)
    const transport: Transport = rpcIsWs
      ? reconnectingWebSocket(opts.rpc, { timeoutMs: 30_000 })
      : // each call carries the active span's W3C trace context: the node's span of it joins the trace
        http(opts.rpc, { timeout: 30_000, fetchFn: fetchWithTraceContext(tracing.tracer.inject) })
    const probe = createPublicClient({ transport })
    const chainId = await probe.getChainId()
    const chain = defineChain({
      id: chainId,
      name: `chain-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [opts.rpc] } },
    })
    const pub = createPublicClient({ chain, transport, pollingInterval: Math.min(opts.pollMs, 1000) }) as PublicClient
    const wallet = createWalletClient({ account, chain, transport })
    const guard = new RiskGuard({ killFile: opts.killFile ?? null })
    const graph = new TokenGraph({ base: opts.base, maxHops: opts.maxHops })
    const sizing =
      (opts.searchThreads ?? 0) > 0
        ? new SizingPool(
            { threads: opts.searchThreads ?? 0 },
            { graph, logger: logger.child({ module: 'search' }), metrics },
          )
        : null
    if (sizing) shutdown.add('search workers', () => sizing.close())
    const tracker = new PoolTracker(
      { factories: opts.factories },
      { client: pub, graph, logger: logger.child({ module: 'tracker' }) },
    )
    const nonces = new NonceManager({ address: account.address }, { client: pub, logger })
    const executor = new ExecutorClient(
      {
        address: opts.executor,
        funding: opts.funding ?? (opts.flash === false ? 'capital' : 'flash'),
        replaceAfterMs: opts.replaceAfterMs ?? 0,
        ...(opts.stuckTimeoutMs !== undefined ? { stuckTimeoutMs: opts.stuckTimeoutMs } : {}),
      },
      {
        public: pub,
        wallet,
        account,
        logger: logger.child({ module: 'executor' }),
        hopSlippageBps: () => guard.config.hopSlippageBps,
        gasPriceCap: () => guard.limits().gasPriceCap,
      },
    )
    const engine = new ArbEngine(
      {
        limits: guard.limits(),
        ...(opts.breakerCooldownMs !== undefined ? { breakerCooldownMs: opts.breakerCooldownMs } : {}),
      },
      {
        graph,
        tracker,
        executor,
        public: pub,
        logger: logger.child({ module: 'engine' }),
        killed: guard.killed,
        limits: () => guard.limits(),
        risk: guard,
        nonces,
        metrics,
        sizing,
      },
    )
    let queue: OpportunityQueue
    let claims: Claims
    if (opts.queue.kind === 'nats') {
      queue = await NatsQueue.open(
        {
          servers: opts.queue.servers,
          ...(opts.queue.stream ? { stream: opts.queue.stream } : {}),
          ...(opts.queue.subject ? { subject: opts.queue.subject } : {}),
        },
        { logger },
      )
      claims = {
        claim: (id, who) => store.claim(id, who, new Date()),
        release: (id, who) => store.releaseClaim(id, who),
      } // shared by every executor through the database
    } else {
      // as many at once as a block may take: the engine sends them one after another, then awaits the receipts together
      queue = new MemoryQueue({ concurrency: 64 })
      claims = new MemoryClaims()
    }
    shutdown.add('queue', () => queue.close())
    const events = new EventHub()
    const runner = new ArbRunner(opts.runner, {
      engine,
      tracker,
      graph,
      store,
      config,
      guard,
      queue,
      claims,
      logger,
      metrics,
      events: events.publish,
      quarantineFeed:
        opts.runner.role === 'strategy'
          ? new QuarantineFeed({}, { store, quarantine: engine.quarantine, logger, now: Date.now })
          : null,
    })
    // spans: a tick, its search, and each opportunity's simulation and execution (no-ops when off)
    const tracer = tracing.tracer
    tracer.wrapMethod(runner, 'tick', 'arb.tick', undefined, () => ({ 'arb.head': tracker.head?.number.toString() }))
    tracer.wrapMethod(
      engine,
      'search',
      'arb.search',
      () => ({ 'arb.pools': graph.poolCount }),
      (r) => ({ 'arb.found': r.found.length, 'arb.selected': r.selected.length }),
    )
    const hops = (o: { cycle: { pools: readonly unknown[] }; amountIn: bigint; netProfit: bigint }) => ({
      'arb.hops': o.cycle.pools.length,
      'arb.amount_in': o.amountIn.toString(),
      'arb.net_profit': o.netProfit.toString(),
    })
    tracer.wrapMethod(
      executor,
      'simulate',
      'arb.simulate',
      (_g, o) => hops(o),
      (r) =>
        r.ok ? { 'arb.ok': true, 'arb.gas': Number(r.gas) } : { 'arb.ok': false, 'arb.revert': r.revert ?? r.reason },
    )
    tracer.wrapMethod(
      executor,
      'settle',
      'arb.execute',
      (o) => hops(o),
      (r) => ({ 'arb.status': r.status, 'arb.tx': r.hash, 'arb.block': Number(r.blockNumber) }),
    )
    await runner.start()
    shutdown.add('executor', () => runner.stop())

    // the loop: a tick per poll interval, or per new head over the WebSocket; never two at once
    let ticking: Promise<void> | null = null
    if (opts.runner.role !== 'strategy') metrics.signerLease.set(leaseHeld ? 1 : 0)
    let again = false
    const tick = async (): Promise<void> => {
      if (ticking) {
        again = true
        return ticking
      }
      ticking = (async () => {
        do {
          again = false
          // The lease first: an executor that lost it (stalled past staleMs, and another took the
          // account over) or cannot confirm it (the database away) must not trade — two executors
          // would hand out the same nonces. It waits, a standby, and takes the lease back once the
          // other's heartbeat is stale.
          if (opts.runner.role !== 'strategy') {
            const held = await store.holdSigner(account.address, owner, new Date(), staleMs).catch(() => false)
            metrics.signerLease.set(held ? 1 : 0)
            if (!held) {
              if (leaseHeld)
                logger.warn({ account: account.address }, 'signing lease lost: not trading until it is held again')
              leaseHeld = false
              continue
            }
            if (!leaseHeld) logger.info({ account: account.address }, 'signing lease held: trading')
            leaseHeld = true
          }
          await runner.tick()
        } while (again && !closed)
      })().finally(() => {
        ticking = null
      })
      return ticking
    }
    const feed = new ChainFeed(
      { pollMs: opts.pollMs, ws: wsUrl },
      { tracker, logger, tick, metrics, onReconnect: () => engine.requestFullLook() },
    )
    feed.start()
    shutdown.add('loop', async () => {
      closed = true
      await feed.close()
      await ticking
    })

    const health = new HealthChecks({ timeoutMs: 2_000 })
    health.register('database', async () => void (await sql.query('SELECT 1')))
    health.register('chain', async () => void (await probe.getBlockNumber()))
    let rateLimitStore: RedisRateLimitStore | undefined
    if (opts.rateLimit?.redisUrl) {
      const rl = new RedisRateLimitStore({ url: opts.rateLimit.redisUrl }, { logger, registry })
      rateLimitStore = rl
      await rl.open()
      shutdown.add('rate-limit store', () => rl.close())
    }
    const authenticator = createAuthenticator(opts.auth, { logger, registry })
    const app = createArbApi(
      {
        auth: opts.auth,
        edge: opts.edge ?? DEFAULT_EDGE,
        ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
      },
      {
        ...(rateLimitStore ? { rateLimitStore } : {}),
        authenticator,
        store,
        config,
        guard,
        registry,
        health,
        logger,
        status: () => ({
          account: account.address,
          role: opts.runner.role,
          queue: queue.kind,
          subscription: feed.subscription,
          head: tracker.head?.number,
          pools: graph.poolCount,
          cycles: graph.cycleCount,
          breakerOpen: engine.breakerOpen,
          quarantine: quarantineStatus(engine.quarantine.list(engine.block)),
          counts: runner.counts,
        }),
        resetBreaker: () => engine.resetBreaker(),
        events,
      },
    )
    let address: string | null = null
    if (opts.http) {
      address = await app.listen({ host: opts.http.host, port: opts.http.port })
      logger.info({ address, storage: sql.driver, queue: queue.kind }, 'arbitrage service listening')
    }
    shutdown.add('http', () => app.close())
    return {
      app,
      runner,
      store,
      guard,
      registry,
      sql,
      address,
      account: account.address,
      tick,
      rotateAuth: (next) => authenticator.rotate(next),
      idle: async () => {
        if (queue instanceof MemoryQueue) await queue.drained()
      },
      close: async () => {
        closed = true
        await shutdown.close()
      },
    }
  } catch (err) {
    return fail(err)
  }
}

/** /v1/status's view of the quarantine: how many cycles sit out, and every token that does. */
function quarantineStatus(now: Quarantined[]) {
  return {
    cycles: now.filter((q) => q.kind === 'cycle').length,
    tokens: now
      .filter((q) => q.kind === 'token')
      .map(({ key, until, strikes, why }) => ({ token: key, until, strikes, why })),
  }
}
