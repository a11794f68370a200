import { z } from 'zod'
import { isCidr, LOOPBACK } from './inbound-limits.ts'

/** The p2p layer's settings (validated at the edge; the node's config loader fills them from flags). */
export const P2pConfigSchema = z.object({
  /** Interface to listen on. */
  host: z.string().default('0.0.0.0'),
  /** TCP port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(30303),
  /** Multiaddrs (`/ip4/…/tcp/…/p2p/<id>`) dialled at start and kept connected. */
  bootnodes: z.array(z.string()).default([]),
  /** Addresses announced to peers instead of the listen addresses (NAT, containers). */
  announce: z.array(z.string()).default([]),
  /** Most connected peers. */
  maxPeers: z.number().int().min(1).default(50),
  /** Most inbound connections from one IP address at a time (in their handshake or open). */
  maxPeersPerIp: z.number().int().min(1).default(8),
  /** Most new inbound connections from one IP address within any second. */
  inboundRatePerIp: z.number().int().min(1).default(5),
  /**
   * Most inbound connections from one IP address still in their handshake (libp2p's own bound on
   * handshakes, host.ts's MAX_PENDING_INBOUND, is shared by every address).
   */
  maxPendingPerIp: z.number().int().min(1).default(2),
  /** An inbound connection whose handshake (Noise, then Yamux) has not finished by then is dropped (ms). */
  handshakeTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Addresses and CIDRs the per-IP limits do not apply to (default: loopback). */
  limitsExempt: z.array(z.string().refine(isCidr, 'an IP address or CIDR like 10.0.0.0/8')).default(LOOPBACK),
  /** Kademlia DHT for discovery (off: only bootnodes and admin_addPeer). */
  dht: z.boolean().default(true),
  /** Blocks per range-sync request. */
  syncBatch: z.number().int().min(1).max(1024).default(128),
  /** Peers range sync asks in parallel (the ones with the highest heads). */
  syncParallel: z.number().int().min(1).max(32).default(4),
  /** Seconds between status refreshes with each peer (its head stays known between gossiped blocks). */
  statusIntervalSeconds: z.number().int().min(1).default(30),
  /** How long a ban lasts (seconds). */
  banSeconds: z.number().int().min(1).default(3600),
  /** Peer ids never connected (deny list) and always allowed (allow list: never banned). */
  deny: z.array(z.string()).default([]),
  allow: z.array(z.string()).default([]),
  /** How long a request waits for its answer (ms). */
  requestTimeoutMs: z.number().int().min(100).default(15_000),
})
export type P2pConfig = z.infer<typeof P2pConfigSchema>
export type P2pConfigInput = z.input<typeof P2pConfigSchema>

export function parseP2pConfig(input: P2pConfigInput): P2pConfig {
  return P2pConfigSchema.parse(input)
}
