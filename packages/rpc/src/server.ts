import { type HealthChecks, requestContext, requestId } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { AUTH_OFF, Authenticator, type AuthOptions, type Principal } from './auth/authenticator.ts'
import { gate, type Refusal } from './auth/gate.ts'
import type { RpcContext } from './context.ts'
import type { RpcDispatcher } from './dispatcher.ts'
import { RATE_LIMIT_OFF, RateLimiter, type RateLimitOptions } from './limits/rate-limiter.ts'
import type { RateLimitStore } from './limits/store.ts'
import type { RpcMetrics } from './metrics.ts'
import type { SubscriptionSink } from './subscriptions.ts'

export interface RpcServerOptions {
  host: string
  port: number
  /** WebSocket message limit in bytes (geth: 32 MiB). */
  wsMaxPayload: number
  /** Ping interval of WebSocket connections in ms. */
  wsPingIntervalMs: number
  /** A WebSocket client that falls this many bytes behind is disconnected. */
  wsMaxBufferedBytes: number
  /** Who may call what (off: everything allowed). */
  auth: AuthOptions
  /** Weighted sliding-window limits per IP and per key (off by default). */
  rateLimit: RateLimitOptions
}

export const DEFAULT_RPC_SERVER_OPTIONS: Omit<RpcServerOptions, 'host' | 'port'> = {
  wsMaxPayload: 32 * 1024 * 1024,
  wsPingIntervalMs: 30_000,
  wsMaxBufferedBytes: 16 * 1024 * 1024,
  auth: AUTH_OFF,
  rateLimit: RATE_LIMIT_OFF,
}

/**
 * JSON-RPC 2.0 over HTTP (`POST /`) and WebSocket (upgrade on the same port), plus `GET /metrics`,
 * `GET /health` (liveness) and `GET /ready` (readiness: 503 while a health check fails). Bodies are
 * parsed here so that malformed JSON gets a JSON-RPC parse error (-32700), not an HTTP 400.
 * Every request gets an id (the caller's sane `x-request-id`, else a UUID) sent back in
 * `x-request-id` and carried by every log line written while it runs. Before dispatch each body
 * passes the {@link gate}: roles (401/403) and rate limits (429 with Retry-After).
 */
export class RpcServer {
  readonly app: FastifyInstance
  private pingTimer: NodeJS.Timeout | undefined
  private readonly authenticator: Authenticator
  private readonly limiter: RateLimiter | null

  constructor(
    readonly opts: RpcServerOptions,
    private readonly modules: {
      dispatcher: RpcDispatcher
      ctx: RpcContext
      registry: Registry | null
      metrics: RpcMetrics | null
      logger: Logger
      /** Readiness checks behind `/ready`; null: always ready. */
      health: HealthChecks | null
      /** Where rate-limit windows live (required when opts.rateLimit.enabled). */
      rateLimitStore: RateLimitStore | null
    },
  ) {
    this.app = Fastify({
      bodyLimit: modules.ctx.limits.bodyLimit,
      logger: false,
      forceCloseConnections: true,
      genReqId: (req) => requestId(req.headers['x-request-id']),
    })
    this.authenticator = new Authenticator(opts.auth)
    this.limiter =
      opts.rateLimit.enabled && modules.rateLimitStore
        ? new RateLimiter(opts.rateLimit, { store: modules.rateLimitStore })
        : null
  }

  /** Runs the gate for one body; logs and returns the refusal, if any. */
  private check(body: string, principal: Principal, ip: string): Refusal | undefined {
    const refused = gate(body, { principal, ip }, this.limiter)
    if (refused) {
      this.modules.metrics?.refused.inc({ reason: refused.kind })
      this.modules.logger.info(
        { status: refused.status, reason: refused.reason, ip, caller: principal.name, kind: principal.kind },
        'rpc request refused',
      )
    }
    return refused
  }

  async listen(): Promise<string> {
    const { app } = this
    const { dispatcher, registry, metrics, logger } = this.modules
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    await app.register(websocket, { options: { maxPayload: this.opts.wsMaxPayload } })

    // Every response names its request; everything logged while serving it carries the same id.
    app.addHook('onRequest', (req, reply, done) => {
      reply.header('x-request-id', req.id)
      requestContext.run({ reqId: req.id }, done)
    })
    app.addHook('onResponse', async (req, reply) => {
      logger.debug({ reqId: req.id, url: req.url, status: reply.statusCode }, 'http request served')
    })

    app.route({
      method: 'GET',
      url: '/',
      handler: async (_req, reply) =>
        reply.code(405).send({ error: 'use POST with a JSON-RPC body, or a WebSocket upgrade' }),
      wsHandler: (socket, req) => {
        const principal = this.authenticator.authenticate(req.headers)
        const ip = req.ip
        metrics?.connections.inc({ transport: 'ws' })
        const sink: SubscriptionSink = {
          subscriptions: new Map(),
          send: (message) => {
            if (socket.bufferedAmount > this.opts.wsMaxBufferedBytes) {
              logger.warn({ buffered: socket.bufferedAmount }, 'closing a WebSocket client that does not read')
              socket.terminate()
              return
            }
            socket.send(message)
          },
        }
        let alive = true
        socket.on('pong', () => {
          alive = true
        })
        const ping = setInterval(() => {
          if (!alive) return socket.terminate()
          alive = false
          socket.ping()
        }, this.opts.wsPingIntervalMs)
        socket.on('message', (data: Buffer) => {
          const text = data.toString()
          requestContext.run({ reqId: req.id }, () => {
            const refused = this.check(text, principal, ip)
            if (refused) return sink.send(refused.body)
            void dispatcher.handleText(text, { connection: sink }).then((res) => {
              if (res !== undefined) sink.send(res)
            })
          })
        })
        socket.on('close', () => {
          clearInterval(ping)
          for (const off of sink.subscriptions.values()) off()
          sink.subscriptions.clear()
          metrics?.connections.dec({ transport: 'ws' })
        })
      },
    })

    app.post('/', (req, reply) =>
      requestContext.run({ reqId: req.id }, async () => {
        const body = typeof req.body === 'string' ? req.body : ''
        reply.header('content-type', 'application/json')
        const refused = this.check(body, this.authenticator.authenticate(req.headers), req.ip)
        if (refused) {
          if (refused.retryAfterSeconds !== undefined) reply.header('retry-after', String(refused.retryAfterSeconds))
          return reply.code(refused.status).send(refused.body)
        }
        const res = await dispatcher.handleText(body)
        return res ?? ''
      }),
    )

    app.get('/health', async () => ({ status: 'ok' }))
    app.get('/ready', (req, reply) => this.ready(req, reply))
    if (registry) {
      app.get('/metrics', async (_req, reply) => {
        reply.header('content-type', registry.contentType)
        return registry.metrics()
      })
    }

    try {
      return await app.listen({ host: this.opts.host, port: this.opts.port })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'EADDRINUSE') {
        throw new CairnError('RPC_PORT_IN_USE', `port ${this.opts.port} on ${this.opts.host} is already in use`, {
          fault: 'caller',
          cause: err,
          hint: 'stop the other process or choose another --http.port',
        })
      }
      if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
        throw new CairnError('RPC_LISTEN_FAILED', `cannot listen on ${this.opts.host}:${this.opts.port} (${code})`, {
          fault: 'caller',
          cause: err,
          hint: 'check --http.addr and --http.port',
        })
      }
      throw err
    }
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
    await this.app.close()
  }
}
