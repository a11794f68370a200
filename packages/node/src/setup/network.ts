import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Chain, DEFAULT_BLOCK_PROCESSOR_OPTIONS, encodeBlock } from '@cairn/chain'
import { byzantineTransport } from '@cairn/consensus'
import type { IdentitySigner, P2pNetwork } from '@cairn/p2p'
import type { Shutdown } from '@cairn/service-kit'
import type { TxPool } from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import { openHsmIdentity } from '../hsm-identity.ts'
import type { NodeKeys } from '../keys/node-keys.ts'
import type { EngineModule } from './engine.ts'

/** P2p is on when asked (`p2p.enabled`), for a follower, and by default outside --dev. */
export function p2pEnabled(config: NodeConfig): boolean {
  return config.p2p.enabled ?? (config.follow || !config.dev)
}

/**
 * The node identity on a token (`p2p.identity` kind `hsm`, with p2p on), else null: opened before
 * anything listens (a wrong PIN is a start error), closed after the p2p network stops.
 */
export async function openNodeIdentity(
  config: NodeConfig,
  modules: { logger: Logger; shutdown: Shutdown; registry: Registry; datadir: DatadirLayout | null },
): Promise<IdentitySigner | null> {
  const identityConfig = config.p2p.identity
  if (identityConfig.kind !== 'hsm' || !p2pEnabled(config)) return null
  const hsmIdentity = await openHsmIdentity(identityConfig, {
    logger: modules.logger,
    registry: modules.registry,
    keysDir: modules.datadir ? join(modules.datadir.root, 'keys') : null,
  })
  modules.shutdown.add('hsm node identity', async () => hsmIdentity.close())
  return hsmIdentity.identity
}

/**
 * Starts the p2p network when it is on (else null), and hands an engine that talks on the
 * consensus topic its transport.
 */
export async function openNetwork(
  config: NodeConfig,
  modules: {
    logger: Logger
    shutdown: Shutdown
    chain: Chain
    pool: TxPool
    engine: EngineModule
    nodeKeys: NodeKeys | null
    datadir: DatadirLayout | null
    registry: Registry
    identity: IdentitySigner | null
  },
): Promise<P2pNetwork | null> {
  const { logger, chain, engine, datadir, nodeKeys } = modules
  if (!p2pEnabled(config)) return null
  // libp2p is imported only when the network is on: its ~400 ms of module loading is most of a
  // dev node's start (the bundle keeps it in a chunk of its own).
  const p2p = await import('@cairn/p2p')
  const announcesHead = engine.capabilities.announcesHead
  const network = await p2p.P2pNetwork.start(
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
      // An engine that carries its blocks in messages of its own (BFT proposals and commits):
      // heads announced on the blocks topic too would have validators execute them a second time.
      announceHeads: !config.follow && engine.capabilities.announcesHeads,
    },
    {
      chain,
      pool: modules.pool,
      logger: logger.child({ module: 'p2p' }),
      metrics: p2p.createP2pMetrics(modules.registry),
      identity: modules.identity,
      // A heaviest-work engine (proof of work): status carries the head's work, sync compares it.
      ...(engine.capabilities.headWork ? { headWork: engine.capabilities.headWork } : {}),
      // Of an engine that hands over (PoW → PoS), the heads of its first era only.
      ...(announcesHead
        ? { announces: (block: { header: { number: bigint } }) => announcesHead(block.header.number) }
        : {}),
    },
  )
  modules.shutdown.add('p2p', () => network.stop())
  // A miner waits while a range sync runs or a peer is known to be ahead.
  // A DAG engine's blocks off the chain go to the peers too (the network announces only heads).
  engine.capabilities.announcesSideBlocks?.onBlock(
    (block) => void network.publishBlock(encodeBlock(block)).catch(() => {}),
  )
  engine.capabilities.waitsForSync?.followSync(() => network.sync.active || network.syncing() !== false)
  const topic = engine.capabilities.consensusTopic
  if (topic) {
    // The testbed's byzantine validator (config testbed.byzantine, honoured only with CAIRN_TESTBED=1).
    const key = nodeKeys?.validator?.current.privateKey
    const byz = config.testbed.byzantine
    topic.connect(
      byz !== 'none' && key !== undefined
        ? byzantineTransport(
            network.consensus,
            { mode: byz, chainId: BigInt(chain.chainId), privateKey: key },
            { logger: logger.child({ module: 'byzantine' }) },
          )
        : network.consensus,
    )
  }
  return network
}

function prepareP2pDir(root: string): string {
  const dir = `${root}/p2p`
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return dir
}
