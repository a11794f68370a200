import { isIPv6, type Server, type Socket } from 'node:net'

/** What a service port's connections are held to (see {@link ConnectionCap}). */
export interface ConnectionLimits {
  /** Open connections per client address (an IPv4 address, or an IPv6 /64); 0 = no cap of its own. */
  perIp: number
  /** Open connections on the port in all; 0 = no limit. */
  total: number
  /** How long a new connection may stay silent before its first byte (ms); 0 = no limit. */
  firstByteMs: number
}

/** Why a connection was closed as it arrived: its address's cap, the port's limit, or the reserve kept for other addresses. */
export type ConnectionRefusal = 'per_ip' | 'total' | 'reserve'

/** Every {@link ConnectionRefusal}, for metrics exported at 0. */
export const CONNECTION_REFUSALS: readonly ConnectionRefusal[] = ['per_ip', 'total', 'reserve']

/** What the cap tells its service (metrics, logs). */
export interface ConnectionEvents {
  /** A connection was closed as it arrived, before any byte was read. */
  refused(reason: ConnectionRefusal, ip: string): void
  /** A connection was closed for sending nothing within the first-byte timeout. */
  silent(ip: string): void
}

/** One address holds at most this share of the port's limit (1/4), whatever its own cap says. */
export const IP_SHARE = 4
/** The last quarter of the port's limit is the reserve: only addresses holding fewer than {@link RESERVE_PER_IP} connections get in there. */
export const RESERVE_SHARE = 4
/** The most connections an address may hold and still get one from the reserve. */
export const RESERVE_PER_IP = 8

/**
 * Holds a service port's TCP connections (HTTP keep-alive sockets, WebSockets, TLS before its
 * handshake) to limits decided when each arrives — the server's `connection` event, before any byte
 * is read — so a flood of silent sockets costs the service no more than its share of descriptors:
 *
 * - the port's `total`: past it the kernel's connection is closed by Node before a socket exists
 *   (`server.maxConnections`, its `drop` event counted as `total`); set it below the process's
 *   RLIMIT_NOFILE, so the database, the peers and the logs keep their descriptors;
 * - each address's cap, `perIp`, and never more than 1/{@link IP_SHARE} of `total`: a connection
 *   past it is destroyed at once (`per_ip`);
 * - the reserve, the last 1/{@link RESERVE_SHARE} of `total`: there only an address holding fewer
 *   than {@link RESERVE_PER_IP} connections gets in (`reserve`), so a new address still does while
 *   a few busy ones hold the rest;
 * - a connection that sends nothing within `firstByteMs` is destroyed (`silent`). Once a byte has
 *   arrived the service's own timeouts apply (request, headers, keep-alive idle): a keep-alive
 *   connection that has served requests is never cut by this one.
 *
 * An IPv6 client is counted by its /64 (one host is given a whole /64; an IPv4 peer on a dual-stack
 * socket, `::ffff:a.b.c.d`, is its IPv4 address).
 */
export class ConnectionCap {
  private readonly open = new Map<string, number>()
  private openTotal = 0

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly events: Partial<ConnectionEvents> = {},
  ) {}

  /** Counts the connections of `server` from their arrival (plain or TLS: the TCP socket, before any handshake). */
  attach(server: Server): void {
    if (this.limits.total > 0) {
      server.maxConnections = this.limits.total
      server.on('drop', (data?: { remoteAddress?: string }) =>
        this.events.refused?.('total', data?.remoteAddress ?? ''),
      )
    }
    // First among the listeners: a refused socket is gone before the server's own parser sees it.
    server.prependListener('connection', (socket: Socket) => this.track(socket))
  }

  /** Open connections of `ip`'s address (its IPv4 address, its IPv6 /64). */
  count(ip: string): number {
    return this.open.get(addressKey(ip)) ?? 0
  }

  /** Open connections in all. */
  get size(): number {
    return this.openTotal
  }

  /** The cap of one address in force: `perIp`, at most 1/{@link IP_SHARE} of `total` (0: none). */
  get limit(): number {
    const { perIp, total } = this.limits
    if (total <= 0) return perIp
    const share = Math.max(1, Math.floor(total / IP_SHARE))
    return perIp > 0 ? Math.min(perIp, share) : share
  }

  private track(socket: Socket): void {
    const ip = socket.remoteAddress ?? ''
    const key = addressKey(ip)
    const held = this.open.get(key) ?? 0
    const refusal = this.refusal(held)
    if (refusal !== undefined) {
      socket.destroy()
      this.events.refused?.(refusal, ip)
      return
    }
    this.open.set(key, held + 1)
    this.openTotal++
    let timer: NodeJS.Timeout | undefined
    if (this.limits.firstByteMs > 0) {
      timer = setTimeout(() => {
        if (socket.bytesRead > 0 || socket.destroyed) return
        socket.destroy()
        this.events.silent?.(ip)
      }, this.limits.firstByteMs)
      timer.unref()
    }
    socket.once('close', () => {
      clearTimeout(timer)
      this.openTotal--
      const left = (this.open.get(key) ?? 1) - 1
      if (left <= 0) this.open.delete(key)
      else this.open.set(key, left)
    })
  }

  /** Why a new connection from an address holding `held` must be refused, if it must. */
  private refusal(held: number): ConnectionRefusal | undefined {
    const cap = this.limit
    if (cap > 0 && held >= cap) return 'per_ip'
    const { total } = this.limits
    if (total <= 0) return undefined
    // Node refuses past `total` itself; this catches a socket it let in while others were closing.
    if (this.openTotal >= total) return 'total'
    const reserved = Math.floor(total / RESERVE_SHARE)
    if (this.openTotal >= total - reserved && held >= RESERVE_PER_IP) return 'reserve'
    return undefined
  }
}

/** The address a connection is counted under: an IPv4 address, or an IPv6 address's /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return mapped[1] as string
  if (!isIPv6(ip)) return ip
  const [head = '', tail] = (ip.split('%')[0] as string).toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups; only the first four groups matter here.
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
