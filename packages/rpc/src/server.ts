// Over 600 lines, on purpose: one server's lifecycle — Fastify's routes and hooks, the WebSocket
// upgrade, the fast lane's hand-over, shedding and hot reconfiguration — share its connections and
// security settings. The edge, the lane, batches and subscriptions live in files of their own.
import type { Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import {
  type ConnectionEvents,
  carrierFrom,
  checkEdge,
  closeWebSocketsGoingAway,
  createHttpServer,
  Edge,
  type EdgeRefusal,
  type HeaderSource,
  type HealthChecks,
  inRequestContext,
  JwksVerifier,
  KEEP_ALIVE_MS,
  type LagSource,
  MemoryRateLimitStore,
  type OrderedUpgrades,
  orderUpgrades,
  RATE_LIMIT_OFF,
  RateLimiter,
  type RateLimitOptions,
  type RateLimitStore,
  readTls,
  reloadTls,
  requestFields,
  requestId,
  securityHeaders,
  type TlsFiles,
} from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { AUTH_OFF, Authenticator, type AuthOptions, type JwksOptions, type Principal } from './auth/authenticator.ts'
import { gate, type Refusal } from './auth/gate.ts'
import { bodyMethods, type ParsedBody, parseBody, UNPARSEABLE } from './body.ts'
import type { RpcContext } from './context.ts'
import type { Answer, RpcDispatcher } from './dispatcher.ts'
import { httpStatusOf, RpcErrorCode, toJsonRpcError } from './errors.ts'
import { FastLane, type LaneAnswer } from './fast/fast-lane.ts'
import type { PlainPost } from './fast/plain-post.ts'
import { lingeringClientError } from './http/client-error.ts'
import { edgeError, RPC_EDGE_CHECKS } from './http/edge.ts'
import type { CallInfo } from './method.ts'
import { methodWeight, runsWithoutContext } from './method-table.ts'
import type { RpcMetrics } from './metrics.ts'
import { isPromise } from './promise.ts'
import { type ReadThreads, servedOnReadThread } from './read-threads.ts'
import type { SubscriptionSink } from './subscriptions.ts'
import { webSocketSink } from './ws-sink.ts'

export interface RpcServerOptions {
  host: string
  port: number
  /** WebSocket message limit in bytes (the node: its HTTP body limit, 5 MiB; geth allows 32 MiB). */
  wsMaxPayload: number
  /** Ping interval of WebSocket connections in ms. */
  wsPingIntervalMs: number
  /** A WebSocket client that falls this many bytes behind is disconnected. */
  wsMaxBufferedBytes: number
  /** Who may call what (off: everything allowed). */
  auth: AuthOptions
  /** Weighted sliding-window limits per IP and per key (off by default). */
  rateLimit: RateLimitOptions
  /** Origins allowed cross-origin (none by default; `*` = any). */
  cors: readonly string[]
  /** Host header names accepted (geth's default: localhost; IP literals always pass; `*` = any). */
  vhosts: readonly string[]
  /** PEM cert/key files: HTTPS and WSS on the port; null: plain HTTP and WS. */
  tls: TlsFiles | null
  /**
   * Open connections per client IP (an IPv6 /64); 0 = no cap of its own. Counted as each arrives,
   * before any byte: one past the cap is closed at once (service-kit's `ConnectionCap`).
   */
  maxConnectionsPerIp: number
  /**
   * Open connections on the port in all; 0 = no limit. Set below the process's descriptor limit
   * (the node: half of RLIMIT_NOFILE): one address holds at most a quarter of it, and the last
   * quarter is kept for addresses holding fewer than 8, so a new address still gets in.
   */
  maxConnections: number
  /**
   * A connection that sends nothing for this long (ms) is closed; 0 = never. Only before its first
   * byte: a keep-alive connection that has served requests waits for its keep-alive timeout.
   */
  firstByteTimeoutMs: number
  /**
   * Longest a request may take to arrive, headers and body, in ms (geth's ReadTimeout: 30 s): a
   * slow-body connection is answered 408 and closed instead of holding a descriptor for ever.
   */
  requestTimeoutMs: number
  /** Shed requests (503) while the event loop lags more than this many ms; 0 = never. */
  shedLagMs: number
  /**
   * Proxies (IPs or CIDRs) trusted to name the client in X-Forwarded-For: the client IP of rate
   * limits and logs is then the first untrusted hop. Empty: the socket address, no header trusted.
   */
  trustProxy: readonly string[]
  /**
   * Listen with SO_REUSEPORT (Node ≥ 22.12 on Linux): several listeners — the main thread's and
   * each read thread's (`--rpc.threads`) — share the port and the kernel spreads connections
   * among them.
   */
  reusePort?: boolean
  /**
   * Plain JSON-RPC POSTs answered off the socket (fast/fast-lane.ts; default on without TLS): the
   * same answers, headers and checks, without Node's HTTP parser and Fastify's per-request objects.
   * Off: every request through Fastify (tests compare the two).
   */
  fastLane?: boolean
  /**
   * The namespaces the dispatcher serves (`rpc.api`): a method outside them skips the role check
   * and is answered -32601 by the dispatcher, as one that does not exist (see the gate). Absent:
   * every method's role is checked. Fixed at start (the dispatcher is built once).
   */
  namespaces?: readonly string[]
}

/** What answers a body that passed the gate (the node's dispatcher; on a read thread, its own or the main thread's). */
export type BodyDispatcher = Pick<RpcDispatcher, 'handleParsed'>

/** A self-contained page the port serves at `GET path` (e.g. the node's `/dag`), with the CSP it needs. */
export interface HtmlPage {
  path: string
  html: string
  /** The page's Content-Security-Policy header (replaces the port's deny-all one on this route). */
  csp: string
}

/** The text of `GET /metrics` when it is more than one registry (the node's threads, merged). */
export interface MetricsPage {
  contentType: string
  metrics(): Promise<string>
}

/**
 * Dispatches a body that passed the gate. Bodies that can make other modules log (anything above
 * the `public` role: signing with node keys, mining, txpool, admin, debug) run in the request
 * context, so those lines carry the request id; pure reads and the methods that
 * declare `contextFree` (signed transactions: method.ts) run without it (on Node 20 the context costs a hook per promise; their
 * own lines name the request).
 */
export function dispatchInContext(
  dispatcher: BodyDispatcher,
  body: ParsedBody,
  call: CallInfo & { reqId: string },
): Answer | Promise<Answer> {
  if (contextFree(body)) return dispatcher.handleParsed(body, call)
  return inRequestContext({ reqId: call.reqId }, async () => dispatcher.handleParsed(body, call))
}

/** Whether every method `body` calls runs without the request context (see {@link dispatchInContext}). */
function contextFree(body: ParsedBody): boolean {
  const free = runsWithoutContext
  if (body === UNPARSEABLE || Array.isArray(body.value)) return bodyMethods(body).every(free)
  // One request (most bodies): its method, without the list bodyMethods makes.
  const m = (body.value as { method?: unknown } | null)?.method
  return typeof m !== 'string' || free(m)
}

/** What can change while the server runs ({@link RpcServer.reconfigure}): the hot-reloadable subset. */
export interface RpcSecurity {
  auth: AuthOptions
  rateLimit: RateLimitOptions
  cors: readonly string[]
  vhosts: readonly string[]
}

/**
 * What the port's connection cap reports: each connection refused as it arrived and each closed
 * for its silence, counted; logged at debug only (a flood would be a line per socket).
 */
function connectionEvents(metrics: RpcMetrics | null, logger: Logger): Partial<ConnectionEvents> {
  return {
    refused: (reason, ip) => {
      metrics?.connectionsRefused.inc({ reason })
      logger.debug({ reason, ip }, 'connection refused as it arrived')
    },
    silent: (ip) => {
      metrics?.connectionsSilent.inc()
      logger.debug({ ip }, 'connection closed: nothing sent within the first-byte timeout')
    },
  }
}

export const DEFAULT_RPC_SERVER_OPTIONS: Omit<RpcServerOptions, 'host' | 'port'> = {
  wsMaxPayload: 5 * 1024 * 1024,
  wsPingIntervalMs: 30_000,
  wsMaxBufferedBytes: 16 * 1024 * 1024,
  auth: AUTH_OFF,
  rateLimit: RATE_LIMIT_OFF,
  cors: [],
  vhosts: ['localhost'],
  tls: null,
  maxConnectionsPerIp: 512,
  maxConnections: 0,
  firstByteTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  shedLagMs: 0,
  trustProxy: [],
}

/** WebSocket close code when the credentials it was opened with expire (1008: policy violation). */
export const WS_CLOSE_CREDENTIALS_EXPIRED = 1008
/** setTimeout's longest delay; a later expiry re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * JSON-RPC 2.0 over HTTP (`POST /`) and WebSocket (upgrade on the same port), plus `GET /metrics`,
 * `GET /health` (liveness) and `GET /ready` (readiness: 503 while a health check fails). Bodies are
 * parsed here so that malformed JSON gets a JSON-RPC parse error (-32700), not an HTTP 400.
 * Every request gets an id (the caller's sane `x-request-id`, else a UUID) sent back in
 * `x-request-id` and carried by every log line written while it runs. Every connection is held to
 * service-kit's limits as it arrives (`ConnectionCap`: per IP, in all, silent ones closed after
 * `firstByteTimeoutMs`); every request first passes service-kit's edge checks (`Edge`: virtual
 * host, WebSocket origin, load shedding), gets security headers (helmet) and CORS headers for
 * allowed origins; before dispatch each body passes the {@link gate}: roles (401/403) and rate
 * limits (429 with Retry-After). With `tls` the same port serves HTTPS and WSS. {@link reconfigure}
 * swaps auth, limits, CORS and virtual hosts while running.
 */
export class RpcServer {
  readonly app: FastifyInstance
  private pingTimer: NodeJS.Timeout | undefined
  private authenticator: Authenticator
  private limiter: RateLimiter | null
  private security: RpcSecurity
  private jwks: JwksVerifier | null
  private readonly store: RateLimitStore
  private readonly edge: Edge
  private lane: FastLane | null = null
  /** Upgrade requests waiting for the answers pipelined ahead of them (service-kit's `orderUpgrades`). */
  private upgrades: OrderedUpgrades | undefined
  /** The namespaces served (`opts.namespaces`), or null: every method is role-checked. */
  private readonly namespaces: ReadonlySet<string> | null

  constructor(
    readonly opts: RpcServerOptions,
    private readonly modules: {
      dispatcher: BodyDispatcher
      ctx: Pick<RpcContext, 'limits'>
      registry: Registry | null
      /** What `GET /metrics` serves instead of `registry` alone (the threads' registries merged). */
      metricsPage?: MetricsPage | null
      metrics: RpcMetrics | null
      logger: Logger
      /** Readiness checks behind `/ready`; null: always ready. */
      health: Pick<HealthChecks, 'run'> | null
      /** Where rate-limit windows live (null: in memory). */
      rateLimitStore: RateLimitStore | null
      /** Event-loop lag for load shedding (tests inject one); default: monitorEventLoopDelay when shedLagMs > 0. */
      lag?: LagSource
      /** Read threads (`--rpc.threads`): HTTP bodies of pure reads are answered there; absent: all here. */
      readThreads?: ReadThreads | null
      /** HTML pages served at `GET path`, each with its own CSP (the port's is deny-all). */
      pages?: readonly HtmlPage[]
    },
  ) {
    const tls = opts.tls ? readTls(opts.tls) : null
    this.app = Fastify({
      bodyLimit: modules.ctx.limits.bodyLimit,
      logger: false,
      forceCloseConnections: true,
      // A bad request's 400 reaches the client: no reset while it still sends (see client-error.ts).
      clientErrorHandler: lingeringClientError,
      genReqId: (req) => requestId(req.headers['x-request-id']),
      trustProxy: opts.trustProxy.length > 0 ? [...opts.trustProxy] : false,
      // The server is made here (for its request timeout); `https` only tells Fastify the scheme.
      serverFactory: (handler) => createHttpServer(tls, opts.requestTimeoutMs, handler),
      ...(tls ? { https: tls } : {}),
    }) as unknown as FastifyInstance
    this.store = modules.rateLimitStore ?? new MemoryRateLimitStore()
    this.namespaces = opts.namespaces ? new Set(opts.namespaces) : null
    this.security = { auth: opts.auth, rateLimit: opts.rateLimit, cors: opts.cors, vhosts: opts.vhosts }
    this.jwks = this.jwksFor(opts.auth.jwks ?? null)
    this.authenticator = new Authenticator(opts.auth, { jwks: this.jwks })
    this.limiter = this.limiterFor(opts.rateLimit)
    this.edge = new Edge(
      {
        vhosts: opts.vhosts,
        cors: opts.cors,
        tls: tls !== null,
        maxConnectionsPerIp: opts.maxConnectionsPerIp,
        maxConnections: opts.maxConnections,
        firstByteTimeoutMs: opts.firstByteTimeoutMs,
        shedLagMs: opts.shedLagMs,
        checks: RPC_EDGE_CHECKS,
      },
      {
        refuse: (refused, req, reply) => this.refuseAtEdge(refused, req, reply),
        ...(modules.lag ? { lag: modules.lag } : {}),
        connections: connectionEvents(modules.metrics, modules.logger),
      },
    )
  }

  /**
   * Applies the hot-reloadable settings at once: new requests (and new WebSocket connections) see
   * the new API keys, roles, limits, CORS origins and virtual hosts; open WebSockets keep the
   * caller they authenticated as. Rate-limit windows are kept (same store).
   */
  reconfigure(security: RpcSecurity): void {
    const jwks = security.auth.jwks ?? null
    if (JSON.stringify(jwks) !== JSON.stringify(this.security.auth.jwks ?? null)) this.jwks = this.jwksFor(jwks)
    this.authenticator = new Authenticator(security.auth, { jwks: this.jwks })
    this.limiter = this.limiterFor(security.rateLimit)
    this.edge.reconfigure({ vhosts: security.vhosts, cors: security.cors })
    this.security = security
  }

  /**
   * Re-reads the TLS certificate and key files and serves them to new connections (a renewed
   * certificate takes effect without a restart). A no-op without TLS; throws SERVICE_TLS_UNREADABLE,
   * keeping the old certificate, when a file is unusable.
   */
  reloadTls(): void {
    if (this.opts.tls) reloadTls(this.app.server as unknown as TlsServer, this.opts.tls)
  }

  /** The settings in force (after the last {@link reconfigure}). */
  get current(): RpcSecurity {
    return this.security
  }

  private jwksFor(opts: JwksOptions | null): JwksVerifier | null {
    if (!opts) return null
    const { url, issuer, audience } = opts
    return new JwksVerifier({ url, issuer, audience }, { logger: this.modules.logger, registry: this.modules.registry })
  }

  private limiterFor(opts: RateLimitOptions): RateLimiter | null {
    return opts.enabled
      ? new RateLimiter(opts, { store: this.store, logger: this.modules.logger, weigh: methodWeight })
      : null
  }

  /** Answers a request refused at the edge (before auth) and counts it. */
  private refuseAtEdge(refused: EdgeRefusal, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    this.modules.metrics?.refused.inc({ reason: refused.kind })
    this.modules.logger.info(
      { reason: refused.kind, ip: req.ip, url: req.url, host: req.headers.host, ...requestFields(req.id) },
      `request refused: ${refused.message}`,
    )
    const error = edgeError(refused)
    reply.code(httpStatusOf(error)).header('content-type', 'application/json')
    return reply.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: toJsonRpcError(error) }))
  }

  /** Runs the gate for one body; logs and returns the refusal, if any. */
  private async check(body: ParsedBody, principal: Principal, ip: string, reqId: string): Promise<Refusal | undefined> {
    const refused = await gate(body, { principal, ip }, this.limiter, this.namespaces)
    if (refused) {
      this.modules.metrics?.refused.inc({ reason: refused.kind })
      this.modules.logger.info(
        {
          status: refused.status,
          reason: refused.reason,
          ip,
          caller: principal.name,
          kind: principal.kind,
          ...requestFields(reqId),
        },
        'rpc request refused',
      )
    }
    return refused
  }

  private dispatch(
    body: ParsedBody,
    reqId: string,
    connection?: SubscriptionSink,
    headers?: HeaderSource,
  ): Answer | Promise<Answer> {
    // a caller's `traceparent`: the call's span joins its trace (the no-op tracer ignores it)
    const trace = headers ? carrierFrom(headers) : undefined
    const call: CallInfo & { reqId: string } = connection ? { reqId, connection } : { reqId }
    if (trace) call.trace = trace
    return dispatchInContext(this.modules.dispatcher, body, call)
  }

  async listen(): Promise<string> {
    const { app } = this
    const { registry, metrics, logger } = this.modules
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    await app.register(websocket, { options: { maxPayload: this.opts.wsMaxPayload } })
    // An upgrade pipelined behind other requests waits for their answers (service-kit's `orderUpgrades`).
    this.upgrades = orderUpgrades(app.server, this.opts.requestTimeoutMs)
    // service-kit's edge: every response names its request and carries the security headers
    // (computed once); virtual host, WebSocket origin, Content-Type, connection cap and load
    // shedding are checked before CORS, auth and parsing. The lines logged about a request carry
    // the same id (see `dispatch` for the request context).
    await this.edge.register(app)
    app.addHook('onResponse', (req, reply, done) => {
      logger.debug({ reqId: req.id, url: req.url, status: reply.statusCode }, 'http request served')
      done()
    })

    app.route({
      method: 'GET',
      url: '/',
      handler: async (_req, reply) =>
        reply.code(405).send({ error: 'use POST with a JSON-RPC body, or a WebSocket upgrade' }),
      wsHandler: (socket, req) => {
        const principal = this.authenticator.authenticate(req.headers)
        // A socket is as good as the credentials it opened with: it closes when a JWT's exp passes
        // (its subscriptions end with it), so a token cannot be kept alive by keeping a socket.
        let expiry: NodeJS.Timeout | undefined
        const expire = (atSeconds: number) => {
          const ms = atSeconds * 1000 - Date.now()
          if (ms > MAX_TIMER_MS) expiry = setTimeout(() => expire(atSeconds), MAX_TIMER_MS)
          else
            expiry = setTimeout(
              () => socket.close(WS_CLOSE_CREDENTIALS_EXPIRED, 'credentials expired: reconnect with a fresh token'),
              Math.max(0, ms),
            )
        }
        void principal.then((p) => {
          if (p.expiresAt !== undefined) expire(p.expiresAt)
        })
        const ip = req.ip
        metrics?.connections.inc({ transport: 'ws' })
        const sink = webSocketSink(
          { maxBufferedBytes: this.opts.wsMaxBufferedBytes, ip },
          { socket, logger, dropped: metrics?.wsSlowClosed },
        )
        let alive = true
        socket.on('pong', () => {
          alive = true
        })
        const ping = setInterval(() => {
          if (!alive) return socket.terminate()
          alive = false
          socket.ping()
        }, this.opts.wsPingIntervalMs)
        // Messages pass the gate one after the other, so they reach the dispatcher in arrival order.
        let inOrder: Promise<unknown> = Promise.resolve()
        socket.on('message', (data: Buffer) => {
          const text = data.toString()
          inOrder = inOrder
            .then(async () => {
              const shed = this.shedding()
              if (shed) return sink.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: toJsonRpcError(shed) }))
              const body = parseBody(text)
              const refused = await this.check(body, await principal, ip, req.id)
              if (refused) return sink.send(refused.body)
              const answer = this.dispatch(body, req.id, sink)
              if (!isPromise(answer)) {
                if (answer !== undefined) sink.send(answer)
                return
              }
              void answer.then((res) => {
                if (res !== undefined) sink.send(res)
              })
            })
            // One failing message must not stall the ones behind it (nor reject unhandled).
            .catch((err: unknown) => logger.error({ err }, 'websocket message failed before dispatch'))
        })
        socket.on('close', () => {
          sink.closed = true
          clearInterval(ping)
          clearTimeout(expiry)
          for (const off of sink.subscriptions.values()) off()
          sink.subscriptions.clear()
          metrics?.connections.dec({ transport: 'ws' })
        })
      },
    })

    app.post('/', async (req, reply) => {
      // Parsed once, for the gate (roles and limits per method) and the dispatcher.
      const text = typeof req.body === 'string' ? req.body : ''
      const body = parseBody(text)
      reply.header('content-type', 'application/json')
      const refused = await this.check(body, await this.authenticator.authenticate(req.headers), req.ip, req.id)
      if (refused) {
        if (refused.retryAfterSeconds !== undefined) reply.header('retry-after', String(refused.retryAfterSeconds))
        return reply.code(refused.status).send(refused.body)
      }
      // Pure reads go to a read thread when one can take them (it sees the head this thread sees).
      const { readThreads } = this.modules
      if (readThreads && body !== UNPARSEABLE && servedOnReadThread(body)) {
        const answered = readThreads.handle(body, text)
        if (answered) return (await answered) ?? ''
      }
      return (await this.dispatch(body, req.id, undefined, req.headers)) ?? ''
    })

    app.get('/health', async () => ({ status: 'ok' }))
    app.get('/ready', (req, reply) => this.ready(req, reply))
    const page = this.modules.metricsPage ?? registry
    if (page) {
      app.get('/metrics', async (_req, reply) => {
        reply.header('content-type', page.contentType)
        return page.metrics()
      })
    }

    for (const p of this.modules.pages ?? []) {
      app.get(p.path, async (_req, reply) => {
        reply.header('content-security-policy', p.csp).header('content-type', 'text/html; charset=utf-8')
        return p.html
      })
    }

    if (this.opts.fastLane !== false && !this.opts.tls) this.installFastLane(app.server as unknown as HttpServer)

    try {
      const { host, port, reusePort } = this.opts
      return await app.listen({ host, port, ...(reusePort ? { reusePort: true } : {}) })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'EADDRINUSE') {
        throw new CairnError(
          RpcErrorCode.PORT_IN_USE,
          `port ${this.opts.port} on ${this.opts.host} is already in use`,
          {
            fault: 'caller',
            cause: err,
            hint: 'stop the other process or choose another --http.port',
          },
        )
      }
      if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
        throw new CairnError(
          RpcErrorCode.LISTEN_FAILED,
          `cannot listen on ${this.opts.host}:${this.opts.port} (${code})`,
          {
            fault: 'caller',
            cause: err,
            hint: 'check --http.addr and --http.port',
          },
        )
      }
      throw err
    }
  }

  /**
   * Puts the fast lane in front of the port's connections (fast/fast-lane.ts). It answers a plain
   * POST exactly as the route below does — the edge checks first (a refused request goes to Fastify,
   * which refuses it and counts it), then the gate, the read threads and dispatch — with the same
   * headers: helmet's, `x-request-id`, `vary: Origin` (the CORS plugin's, on every answer), the
   * content type Fastify gives a string. Behind a trusted proxy the client's address comes from
   * X-Forwarded-For, which only Fastify reads: there every request goes to Fastify.
   */
  private installFastLane(server: HttpServer): void {
    const { metrics, logger } = this.modules
    const fixed = Object.entries(securityHeaders({ tls: false }))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')
    const answered = metrics?.fastLane.labels({ outcome: 'answered' })
    const handedOver = metrics?.fastLane.labels({ outcome: 'handed_over' })
    const lane = new FastLane(
      {
        bodyLimit: this.modules.ctx.limits.bodyLimit,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        keepAliveMs: KEEP_ALIVE_MS,
        fixedHeaders: fixed,
      },
      {
        admits: (post, socket) =>
          this.opts.trustProxy.length === 0 &&
          checkEdge({ method: 'POST', url: '/', headers: post.headers, socket }, this.edge.state, RPC_EDGE_CHECKS) ===
            undefined,
        answer: (post, text, socket) => {
          answered?.inc()
          return this.answerPlain(post, text, socket)
        },
        handedOver: () => handedOver?.inc(),
        failed: (err) => logger.error({ err }, 'the fast lane could not answer a request'),
      },
    )
    if (lane.attach(server)) this.lane = lane
    else logger.warn("this Node's HTTP server has no connection listener to take over: the RPC fast lane is off")
  }

  /**
   * The answer to a plain POST on the fast lane: what the `POST /` route answers. Without a gate to
   * pass (auth off, no rate limits) an answer the dispatcher has now is returned now, for the lane
   * to write in the same turn.
   */
  private answerPlain(post: PlainPost, text: string, socket: Socket): LaneAnswer | Promise<LaneAnswer> {
    const reqId = requestId(post.headers['x-request-id'])
    const ids = `x-request-id: ${reqId}\r\nvary: Origin\r\n`
    const body = parseBody(text)
    // Auth off and no rate limits (the dev profile): every caller is admin and nothing is charged,
    // so the gate cannot refuse — skipped, with its two awaits.
    const open = !this.security.auth.enabled && this.limiter === null
    return open
      ? this.answerAdmitted(body, text, ids, reqId, post.headers)
      : this.answerGated(post, body, text, ids, reqId, socket)
  }

  /** {@link answerPlain} through the gate. */
  private async answerGated(
    post: PlainPost,
    body: ParsedBody,
    text: string,
    ids: string,
    reqId: string,
    socket: Socket,
  ): Promise<LaneAnswer> {
    const refused = await this.check(
      body,
      await this.authenticator.authenticate(post.headers),
      socket.remoteAddress ?? '',
      reqId,
    )
    if (refused) {
      const retry = refused.retryAfterSeconds !== undefined ? `retry-after: ${refused.retryAfterSeconds}\r\n` : ''
      this.modules.logger.debug({ reqId, url: '/', status: refused.status }, 'http request served')
      return { status: refused.status, headers: ids + retry, body: refused.body }
    }
    return this.answerAdmitted(body, text, ids, reqId, post.headers)
  }

  /** {@link answerPlain} once admitted: read threads or the dispatcher; now when it answered now. */
  private answerAdmitted(
    body: ParsedBody,
    text: string,
    ids: string,
    reqId: string,
    headers: HeaderSource,
  ): LaneAnswer | Promise<LaneAnswer> {
    const { readThreads } = this.modules
    const handed =
      readThreads && body !== UNPARSEABLE && servedOnReadThread(body) ? readThreads.handle(body, text) : undefined
    const out = handed ?? this.dispatch(body, reqId, undefined, headers)
    if (isPromise(out)) return Promise.resolve(out).then((o) => this.served(ids, reqId, o))
    return this.served(ids, reqId, out)
  }

  private served(ids: string, reqId: string, out: Answer): LaneAnswer {
    this.modules.logger.debug({ reqId, url: '/', status: 200 }, 'http request served')
    return { status: 200, headers: ids, body: out ?? '' }
  }

  /** The overload error while the event loop lags past the threshold (WebSocket messages), else undefined. */
  private shedding(): CairnError | undefined {
    const refused = this.edge.shedding()
    if (!refused) return undefined
    this.modules.metrics?.refused.inc({ reason: 'overloaded' })
    return edgeError(refused)
  }

  /** `/ready`: `{status, checks: [{name, ok, detail}]}`, 503 while any check fails. */
  private async ready(_req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const report = this.modules.health ? await this.modules.health.run() : { status: 'ok' as const, checks: {} }
    const checks = Object.entries(report.checks).map(([name, r]) => ({
      name,
      ok: r.ok,
      detail: r.ok ? `ok in ${r.ms} ms` : (r.error ?? 'failed'),
    }))
    const failing = checks.filter((c) => !c.ok).map((c) => c.name)
    if (failing.length) this.modules.logger.warn({ failing }, 'not ready')
    reply.code(report.status === 'ok' ? 200 : 503)
    return { status: report.status, failing, checks }
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const addr = this.app.server.address()
    return typeof addr === 'object' && addr ? addr.port : this.opts.port
  }

  async close(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.edge.close()
    this.lane?.close()
    this.upgrades?.close()
    // Open WebSockets get a close frame (1001: going away) and their connection ends now: ws would
    // wait up to 30 s for each client's own close frame, and close() with it.
    closeWebSocketsGoingAway(this.app.websocketServer?.clients)
    await this.app.close()
  }
}
