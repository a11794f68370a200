import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkEdge, type EdgeCheckOptions, type EdgeRefusal, type EdgeState, shedding } from './checks.ts'
import { ConnectionCap, type ConnectionEvents } from './connection-cap.ts'
import { registerCors } from './cors.ts'
import { EventLoopLag, type LagSource } from './event-loop-lag.ts'
import { repeatedHost, TOO_MANY_HOSTS } from './host-check.ts'
import { type CspDirectives, securityHeaders } from './security-headers.ts'

/** The edge of one service's port. */
export interface EdgeOptions {
  /** Host header names accepted (IP literals always pass; `*` = any). */
  vhosts: readonly string[]
  /** Origins allowed cross-origin (none: no CORS headers; `*` = any). */
  cors: readonly string[]
  /** The port speaks TLS (HSTS is sent). */
  tls: boolean
  /** Open connections per client IP; 0 = no cap of its own (see {@link ConnectionCap}). */
  maxConnectionsPerIp: number
  /** Open connections on the port in all, below the process's descriptor limit; 0 / absent = no limit. */
  maxConnections?: number
  /** A connection that sends nothing for this long (ms) is closed; 0 / absent = never. */
  firstByteTimeoutMs?: number
  /** Shed requests while the event loop lags more than this many ms; 0 = never. */
  shedLagMs: number
  /** The CSP (default: a JSON API's, which allows nothing). */
  csp?: CspDirectives
  /** HTTP methods CORS allows (default GET, POST, OPTIONS). */
  corsMethods?: readonly string[]
  /** Content types a POST may carry, and the paths always served. */
  checks?: EdgeCheckOptions
}

/**
 * A service's HTTP edge on Fastify, one implementation for every Cairn service: connections held to
 * their limits as they arrive ({@link ConnectionCap}: per address, in all, silent ones closed),
 * security headers (helmet, computed once) and `x-request-id` on every answer, then
 * {@link checkEdge} (virtual host, WebSocket origin, Content-Type, load shedding), then CORS for
 * allowed origins. A refusal goes to the service's `refuse`, which answers in its own format
 * (JSON-RPC error, REST error body) with its own status mapping. {@link reconfigure} swaps vhosts
 * and CORS origins while running.
 */
export class Edge {
  readonly state: EdgeState
  /** The port's connections, counted from their arrival. */
  readonly connections: ConnectionCap
  private readonly ownLag: boolean

  constructor(
    readonly opts: EdgeOptions,
    private readonly modules: {
      /** Answers a refused request (and counts/logs it). */
      refuse: (refusal: EdgeRefusal, req: FastifyRequest, reply: FastifyReply) => FastifyReply
      /** Event-loop lag (tests inject one); default: monitorEventLoopDelay when shedLagMs > 0. */
      lag?: LagSource
      /** Told of each connection refused as it arrived or closed for its silence (metrics, logs). */
      connections?: Partial<ConnectionEvents>
    },
  ) {
    this.ownLag = modules.lag === undefined && opts.shedLagMs > 0
    this.state = {
      vhosts: opts.vhosts,
      cors: opts.cors,
      lag: modules.lag ?? (opts.shedLagMs > 0 ? new EventLoopLag() : null),
      shedLagMs: opts.shedLagMs,
    }
    this.connections = new ConnectionCap(
      {
        perIp: opts.maxConnectionsPerIp,
        total: opts.maxConnections ?? 0,
        firstByteMs: opts.firstByteTimeoutMs ?? 0,
      },
      modules.connections,
    )
  }

  /** Installs the hooks and CORS on `app` (before its routes) and counts the server's connections. */
  async register(app: FastifyInstance): Promise<void> {
    this.connections.attach(app.server)
    const headers = securityHeaders({ tls: this.opts.tls, ...(this.opts.csp ? { csp: this.opts.csp } : {}) })
    app.addHook('onRequest', (req, reply, done) => {
      reply.headers(headers)
      reply.header('x-request-id', req.id)
      // Two Host headers name no one host (Node keeps the first; a proxy may route by the last):
      // refused as Go's net/http refuses them, before the virtual-host check reads either.
      if (repeatedHost(req.raw.rawHeaders)) {
        reply.code(400).header('connection', 'close').header('content-type', 'text/plain; charset=utf-8')
        reply.send(TOO_MANY_HOSTS)
        return
      }
      const refused = checkEdge(
        { method: req.method, url: req.url, headers: req.headers, socket: req.socket },
        this.state,
        this.opts.checks,
      )
      if (refused) {
        if (refused.retryAfterSeconds !== undefined) reply.header('retry-after', String(refused.retryAfterSeconds))
        if (refused.close) reply.header('connection', 'close')
        this.modules.refuse(refused, req, reply)
        return
      }
      done()
    })
    await registerCors(app, () => this.state.cors, this.opts.corsMethods)
  }

  /** Swaps the virtual hosts and CORS origins: the next request sees them. */
  reconfigure(next: { vhosts: readonly string[]; cors: readonly string[] }): void {
    this.state.vhosts = next.vhosts
    this.state.cors = next.cors
  }

  /** The overload refusal for a WebSocket message while the loop lags, else undefined. */
  shedding(): EdgeRefusal | undefined {
    return shedding(this.state)
  }

  /** Stops the lag monitor the edge made itself. */
  close(): void {
    if (this.ownLag) this.state.lag?.close()
  }
}
