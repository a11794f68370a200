import type { Connection } from '@libp2p/interface'
import type { P2pMetrics } from './metrics.ts'

/** Sets the peers gauge: connected peers by the direction of their first connection listed. */
export function setPeerGauge(metrics: P2pMetrics, connections: readonly Connection[]): void {
  let inbound = 0
  let outbound = 0
  const seen = new Set<string>()
  for (const c of connections) {
    const id = c.remotePeer.toString()
    if (seen.has(id)) continue
    seen.add(id)
    if (c.direction === 'inbound') inbound++
    else outbound++
  }
  metrics.peers.set({ direction: 'inbound' }, inbound)
  metrics.peers.set({ direction: 'outbound' }, outbound)
}
