import type { MetricsRegister } from '@libp2p/gossipsub/metrics'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { gossipsubMetricsRegister } from './gossip-metrics.ts'
import { INBOUND_REFUSALS } from './inbound-limits.ts'

export interface P2pMetrics {
  peers: Gauge<'direction'>
  messages: Counter<'topic' | 'direction'>
  bytes: Counter<'topic' | 'direction'>
  gossipValidation: Counter<'topic' | 'result'>
  requestSeconds: Histogram<'protocol'>
  peerActions: Counter<'action' | 'reason'>
  disconnects: Counter<'reason'>
  bans: Counter<'reason'>
  refusedAtStatus: Counter<'reason'>
  refusedConnections: Counter<'reason'>
  syncHighest: Gauge
  syncBlocks: Counter
  peerScore: Histogram
  /** gossipsub's own metrics, `cairn_p2p_gossipsub_*` (see gossip-metrics.ts). */
  gossipsub: MetricsRegister
}

export function createP2pMetrics(register: Registry): P2pMetrics {
  const registers = [register]
  const refusedConnections = new Counter({
    name: 'cairn_p2p_refused_connections_total',
    help: 'Connections refused by the gater, by reason (denied, banned, low_score; per_ip, rate, pending: inbound limits per IP)',
    labelNames: ['reason'],
    registers,
  })
  for (const reason of ['denied', 'banned', 'low_score', ...INBOUND_REFUSALS])
    refusedConnections.labels({ reason }).inc(0)
  return {
    peers: new Gauge({
      name: 'cairn_p2p_peers',
      help: 'Connected peers by direction',
      labelNames: ['direction'],
      registers,
    }),
    messages: new Counter({
      name: 'cairn_p2p_messages_total',
      help: 'Messages by topic or protocol and direction (in/out)',
      labelNames: ['topic', 'direction'],
      registers,
    }),
    bytes: new Counter({
      name: 'cairn_p2p_bytes_total',
      help: 'Payload bytes (compressed) by topic or protocol and direction',
      labelNames: ['topic', 'direction'],
      registers,
    }),
    gossipValidation: new Counter({
      name: 'cairn_p2p_gossip_validation_total',
      help: 'Gossip messages validated, by topic and verdict (accept, ignore, reject)',
      labelNames: ['topic', 'result'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'cairn_p2p_request_seconds',
      help: 'Outbound request latency by protocol',
      labelNames: ['protocol'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers,
    }),
    peerActions: new Counter({
      name: 'cairn_p2p_peer_actions_total',
      help: 'Penalties given to peers, by action (fatal, low, mid, high) and reason',
      labelNames: ['action', 'reason'],
      registers,
    }),
    disconnects: new Counter({
      name: 'cairn_p2p_disconnects_total',
      help: 'Peers this node disconnected, by reason',
      labelNames: ['reason'],
      registers,
    }),
    bans: new Counter({
      name: 'cairn_p2p_bans_total',
      help: 'Peers banned, by reason',
      labelNames: ['reason'],
      registers,
    }),
    refusedAtStatus: new Counter({
      name: 'cairn_p2p_status_refused_total',
      help: 'Peers refused at the status exchange, by reason (genesis, chain_id, fork_id)',
      labelNames: ['reason'],
      registers,
    }),
    refusedConnections,
    syncHighest: new Gauge({
      name: 'cairn_p2p_sync_highest_block',
      help: 'Highest head announced by a peer',
      registers,
    }),
    syncBlocks: new Counter({ name: 'cairn_p2p_sync_blocks_total', help: 'Blocks imported by range sync', registers }),
    peerScore: new Histogram({
      name: 'cairn_p2p_peer_score',
      help: 'Distribution of peer scores (sampled every heartbeat)',
      buckets: [-100, -50, -20, -10, -1, 0, 1, 10, 100],
      registers,
    }),
    gossipsub: gossipsubMetricsRegister(register),
  }
}
