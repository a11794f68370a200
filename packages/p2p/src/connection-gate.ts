// Who may connect: the libp2p connection gater of the P2P node. Peers denied, banned or cut off
// for a low score are refused both ways; inbound connections are limited per remote IP at arrival
// (before the handshake is paid for) and counted until they close.
import type { Logger } from '@cairn/utils'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { BanList } from './bans.ts'
import { InboundLimiter } from './inbound-limits.ts'
import type { P2pMetrics } from './metrics.ts'
import type { P2pOptions } from './network-options.ts'
import type { PeerScores } from './scoring.ts'

export type ConnectionGateOptions = Pick<
  P2pOptions,
  'allow' | 'deny' | 'maxPeersPerIp' | 'maxPendingPerIp' | 'inboundRatePerIp' | 'limitsExempt'
>

export interface ConnectionGateModules {
  bans: BanList
  scores: PeerScores
  logger: Logger
  metrics: P2pMetrics | null
  /** Milliseconds since the epoch (injected in tests). */
  now?: () => number
}

/** The gater the host is made with (see the file's header). */
export function connectionGate(opts: ConnectionGateOptions, modules: ConnectionGateModules): ConnectionGater {
  const { bans, scores, logger, metrics } = modules
  const deny = new Set(opts.deny)
  // Denied, banned, or disconnected for a low score that has not decayed yet: not let back in.
  const refused = (peer: PeerId) => {
    const id = peer.toString()
    if (opts.allow.includes(id)) return false
    const reason = deny.has(id)
      ? 'denied'
      : bans.isBanned(id)
        ? 'banned'
        : scores.state(id) !== 'healthy'
          ? 'low_score'
          : undefined
    if (reason) {
      metrics?.refusedConnections.inc({ reason })
      logger.debug({ peer: id, reason }, 'connection refused')
    }
    return reason !== undefined
  }
  // Per remote IP, at arrival (before the handshake is paid for): this limiter, not libp2p's
  // own rate limit (5 a second per host, refusals it neither counts nor lets us exempt loopback).
  const limiter = new InboundLimiter(
    {
      maxPerIp: opts.maxPeersPerIp,
      maxPendingPerIp: opts.maxPendingPerIp,
      ratePerIp: opts.inboundRatePerIp,
      windowMs: 1000,
      exempt: opts.limitsExempt,
    },
    modules.now ? { now: modules.now } : {},
  )
  // Inbound connections admitted by the limiter and still in their handshake: their `upgraded`.
  const inHandshake = new WeakMap<MultiaddrConnection, () => void>()
  return {
    denyDialPeer: refused,
    denyInboundEncryptedConnection: refused,
    denyInboundConnection: (maConn) => {
      const ip = hostOf(maConn.remoteAddr)
      if (ip === undefined) return false
      const admission = limiter.admit(ip)
      if (!admission.ok) {
        metrics?.refusedConnections.inc({ reason: admission.reason })
        logger.debug(
          { ip, reason: admission.reason, live: admission.live, addr: maConn.remoteAddr.toString() },
          'inbound connection refused',
        )
        return true
      }
      // Counted until the raw connection closes: through a failed handshake, or the connection's
      // life; as pending until its handshake is done (denyInboundUpgradedConnection).
      if (maConn.status === 'closed') admission.release()
      else {
        maConn.addEventListener('close', admission.release, { once: true })
        inHandshake.set(maConn, admission.upgraded)
      }
      return false
    },
    denyInboundUpgradedConnection: (_peer, maConn) => {
      inHandshake.get(maConn)?.()
      inHandshake.delete(maConn)
      return false
    },
  }
}

function hostOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
}
