import './polyfill.ts'
import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'
import type { PeerScoreParams, PeerScoreThresholds } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { type Ping, ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/**
 * Inbound connections in their handshake at once, all addresses together (libp2p's
 * `maxIncomingPendingConnections`, 10 by default): past it libp2p refuses every new one. Each
 * address holds only a few of them (the gater's `maxPendingPerIp`) and a silent one is dropped after
 * `handshakeTimeoutMs`, so it takes many addresses to fill.
 */
export const MAX_PENDING_INBOUND = 64

export type HostServices = { identify: unknown; ping: Ping; pubsub: GossipSub; dht?: KadDHT }
export type Host = Libp2p<HostServices>

export interface HostOptions {
  privateKey: PrivateKey
  listen: string[]
  announce: string[]
  maxConnections: number
  /** How long an inbound connection's handshake (encryption, multiplexer) may take, in ms (absent: libp2p's 10 s). */
  handshakeTimeoutMs?: number
  /** Kademlia DHT protocol id (per chain), or null for no DHT. */
  dhtProtocol: string | null
  gater: ConnectionGater
  /** Gossipsub peer scoring (topic parameters and thresholds). */
  score?: { params: PeerScoreParams; thresholds: PeerScoreThresholds }
  /** gossipsub's own metrics: where they go, and each topic's label (blocks, txs, consensus). */
  gossipMetrics?: { register: MetricsRegister; topics: Map<string, string> }
}

/**
 * The libp2p host: TCP, Noise (encryption with forward secrecy), Yamux (multiplexing), identify,
 * ping, gossipsub and, when enabled, a Kademlia DHT for discovery (with every address kept: a
 * private network's peers are on private addresses). Gossip messages carry no signature or
 * author (StrictNoSign, as Ethereum's): their id is the SHA-256 of their data.
 */
export async function createHost(opts: HostOptions): Promise<Host> {
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictNoSign',
      msgIdFn: (msg) => createHash('sha256').update(msg.data).digest().subarray(0, 20),
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      // Validation (a block's import) may take longer than a heartbeat.
      asyncValidation: false,
      maxInboundDataLength: 12 * 1024 * 1024,
      // IDONTWANT (gossipsub 1.2) only for messages of 64 KiB and more (default: 512 bytes): it
      // spares a peer a duplicate of a large block or proposal, but a transaction announcement is
      // never forwarded, so telling each mesh peer not to send it again (one more framed, encrypted
      // write each) only cost: 1.1 s of the BFT bench's 64 s of node CPU.
      idontwantMinDataSize: 64 * 1024,
      emitSelf: false,
      ...(opts.score ? { scoreParams: opts.score.params, scoreThresholds: opts.score.thresholds } : {}),
      ...(opts.gossipMetrics
        ? { metricsRegister: opts.gossipMetrics.register, metricsTopicStrToLabel: opts.gossipMetrics.topics }
        : {}),
    }),
  }
  if (opts.dhtProtocol !== null) {
    services.dht = kadDHT({ protocol: opts.dhtProtocol, clientMode: false, peerInfoMapper: passthroughMapper })
  }
  return (await createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: opts.gater,
    connectionManager: {
      maxConnections: opts.maxConnections,
      maxIncomingPendingConnections: MAX_PENDING_INBOUND,
      // libp2p's default is 10 s: a silent connection would hold its address's pending slot that long.
      ...(opts.handshakeTimeoutMs !== undefined ? { inboundUpgradeTimeout: opts.handshakeTimeoutMs } : {}),
      // The per-IP rate is the gater's (counted, loopback exempt): libp2p's own, 5 new inbound
      // connections a second per host, would refuse first and silently.
      inboundConnectionThreshold: Number.MAX_SAFE_INTEGER,
    },
    services: services as never,
  })) as unknown as Host
}
