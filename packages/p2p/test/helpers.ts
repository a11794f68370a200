import { Chain, devGenesis } from '@cairn/chain'
import { DevEngine } from '@cairn/consensus'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { type Logger, silentLogger, writerLogger } from '@cairn/utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Registry } from 'prom-client'
import { ADDRS } from '../../chain/test/helpers.ts'
import { createHost, type Host } from '../src/host.ts'
import {
  createP2pMetrics,
  type IdentitySigner,
  type P2pMetrics,
  P2pNetwork,
  type P2pOptions,
  parseP2pConfig,
} from '../src/index.ts'
import { ReqResp } from '../src/reqresp.ts'

export interface TestNode {
  chain: Chain
  pool: TxPool
  engine: DevEngine
  net: P2pNetwork
  metrics: P2pMetrics
  registry: Registry
  stop(): Promise<void>
}

/** Logs to stderr when P2P_TEST_LOG is set (debugging), else nothing. */
function testLogger(name: string): Logger {
  if (!process.env.P2P_TEST_LOG) return silentLogger
  return writerLogger((level, fields, msg) =>
    process.stderr.write(
      `${name} ${level} ${msg} ${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v))}\n`,
    ),
  )
}

let counter = 0

/** One second per block, an hour in the past: blocks sealed back to back are never "in the future". */
export function pastClock(): () => number {
  const start = Math.floor(Date.now() / 1000) - 3600
  return () => start
}

/** A node on MemoryKV with a dev engine (sealing only when told) and the p2p layer on loopback. */
export async function testNode(
  o: {
    chainId?: bigint
    /** A genesis (any form Chain.open takes) instead of the dev genesis of the chain test helpers' accounts. */
    genesis?: unknown
    dir?: string | null
    p2p?: Partial<P2pOptions>
    now?: () => number
    /** The network's clock (ms; default the wall clock): quotas, inbound limits. */
    netNow?: () => number
    /** An identity held outside the process (P2pModules.identity). */
    identity?: IdentitySigner
  } = {},
): Promise<TestNode> {
  await initCrypto()
  const kv = new MemoryKV()
  await kv.open()
  const now = o.now ?? pastClock()
  const engine = new DevEngine({ blockTime: 0, coinbase: new Uint8Array(20).fill(7) }, { logger: silentLogger, now })
  const chain = await Chain.open(
    { genesis: o.genesis ?? devGenesis({ accounts: ADDRS, ...(o.chainId ? { chainId: o.chainId } : {}) }) },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
  const follower = followChain(pool, chain.events, { logger: silentLogger })
  engine.attach({ chain, pool, follower })
  const registry = new Registry()
  const metrics = createP2pMetrics(registry)
  const net = await P2pNetwork.start(
    {
      ...parseP2pConfig({ host: '127.0.0.1', port: 0, dht: false }),
      dir: o.dir ?? null,
      maxBlockBytes: 10 * 1024 * 1024,
      heartbeatMs: 500,
      ...o.p2p,
    },
    {
      chain,
      pool,
      logger: testLogger(`node${counter++}`),
      metrics,
      ...(o.netNow ? { now: o.netNow } : {}),
      ...(o.identity ? { identity: o.identity } : {}),
    },
  )
  return {
    chain,
    pool,
    engine,
    net,
    metrics,
    registry,
    async stop() {
      await net.stop()
      follower.stop()
      await follower.settled()
      await kv.close()
    },
  }
}

/** Polls `cond` until it holds (no fixed sleep: the wait ends at the event, or fails after `ms`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get()
  let sum = 0
  for (const v of m?.values ?? []) {
    if (Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x)) sum += v.value
  }
  return sum
}

/**
 * A bare libp2p host on loopback with request/response on it (no chain): for the protocol's own
 * tests. The caller stops the host.
 */
export async function reqrespHost(): Promise<{ host: Host; reqresp: ReqResp }> {
  const host = await createHost({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    announce: [],
    maxConnections: 10,
    dhtProtocol: null,
    gater: {},
  })
  const reqresp = new ReqResp(
    { requestTimeoutMs: 10_000, quota: { capacity: 100, perSecond: 100 } },
    { libp2p: host, logger: silentLogger, metrics: null, penalize: () => {} },
  )
  return { host, reqresp }
}
