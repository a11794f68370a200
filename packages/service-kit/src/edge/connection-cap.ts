import type { Server, Socket } from 'node:net'

/**
 * Caps the connections one client IP holds open on a service port (HTTP keep-alive sockets and
 * WebSockets alike; each is a TCP connection). A connection beyond the cap is accepted but marked:
 * its HTTP requests are answered 429 with `Connection: close`, a WebSocket opened on it is closed
 * at once with code 1013 ("try again later") and a reason. A cap of 0 turns it off.
 */
export class ConnectionCap {
  private readonly open = new Map<string, number>()
  private readonly over = new WeakSet<Socket>()

  constructor(private perIp: number) {}

  /** Counts the connections of `server` (`secureConnection` for TLS, so the socket is the request's). */
  attach(server: Server, tls: boolean): void {
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.track(socket))
  }

  /** Whether requests on `socket` must be refused (it arrived past its IP's cap). */
  isOver(socket: Socket): boolean {
    return this.over.has(socket)
  }

  /** Open connections of `ip` (tests, logs). */
  count(ip: string): number {
    return this.open.get(ip) ?? 0
  }

  get limit(): number {
    return this.perIp
  }

  set limit(n: number) {
    this.perIp = n
  }

  private track(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown'
    const n = (this.open.get(ip) ?? 0) + 1
    this.open.set(ip, n)
    if (this.perIp > 0 && n > this.perIp) this.over.add(socket)
    socket.once('close', () => {
      const left = (this.open.get(ip) ?? 1) - 1
      if (left <= 0) this.open.delete(ip)
      else this.open.set(ip, left)
    })
  }
}
