import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkEdge, type EdgeCheckOptions, type EdgeRefusal, type EdgeState, shedding } from './checks.ts'
import { ConnectionCap } from './connection-cap.ts'
import { registerCors } from './cors.ts'
import { EventLoopLag, type LagSource } from './event-loop-lag.ts'
import { type CspDirectives, securityHeaders } from './security-headers.ts'

/** The edge of one service's port. */
export interface EdgeOptions {
  /** Host header names accepted (IP literals always pass; `*` = any). */
  vhosts: readonly string[]
  /** Origins allowed cross-origin (none: no CORS headers; `*` = any). */
  cors: readonly string[]
  /** The port speaks TLS (HSTS is sent). */
  tls: boolean
  /** Open connections per client IP; 0 = no cap. */
  maxConnectionsPerIp: number
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
 * A service's HTTP edge on Fastify, one implementation for every Cairn service: security headers
 * (helmet, computed once) and `x-request-id` on every answer, then {@link checkEdge} (virtual
 * host, WebSocket origin, Content-Type, per-IP connection cap, load shedding), then CORS for
 * allowed origins. A refusal goes to the service's `refuse`, which answers in its own format
 * (JSON-RPC error, REST error body) with its own status mapping. {@link reconfigure} swaps vhosts
 * and CORS origins while running.
 */
export class Edge {
  readonly state: EdgeState
  private readonly ownLag: boolean

  constructor(
    readonly opts: EdgeOptions,
    private readonly modules: {
      /** Answers a refused request (and counts/logs it). */
      refuse: (refusal: EdgeRefusal, req: FastifyRequest, reply: FastifyReply) => FastifyReply
      /** Event-loop lag (tests inject one); default: monitorEventLoopDelay when shedLagMs > 0. */
      lag?: LagSource
    },
  ) {
    this.ownLag = modules.lag === undefined && opts.shedLagMs > 0
    this.state = {
      vhosts: opts.vhosts,
      cors: opts.cors,
      cap: new ConnectionCap(opts.maxConnectionsPerIp),
      lag: modules.lag ?? (opts.shedLagMs > 0 ? new EventLoopLag() : null),
      shedLagMs: opts.shedLagMs,
    }
  }

  /** Installs the hooks and CORS on `app` (before its routes) and counts the server's connections. */
  async register(app: FastifyInstance): Promise<void> {
    this.state.cap.attach(app.server, this.opts.tls)
    const headers = securityHeaders({ tls: this.opts.tls, ...(this.opts.csp ? { csp: this.opts.csp } : {}) })
    app.addHook('onRequest', (req, reply, done) => {
      reply.headers(headers)
      reply.header('x-request-id', req.id)
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
