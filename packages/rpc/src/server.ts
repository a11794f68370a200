import { CairnError, type Logger } from '@cairn/utils'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { RpcContext } from './context.ts'
import type { RpcDispatcher } from './dispatcher.ts'
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
}

export const DEFAULT_RPC_SERVER_OPTIONS: Omit<RpcServerOptions, 'host' | 'port'> = {
  wsMaxPayload: 32 * 1024 * 1024,
  wsPingIntervalMs: 30_000,
  wsMaxBufferedBytes: 16 * 1024 * 1024,
}

/**
 * JSON-RPC 2.0 over HTTP (`POST /`) and WebSocket (upgrade on the same port), plus `GET /metrics`
 * and `GET /health`. Bodies are parsed here so that malformed JSON gets a JSON-RPC parse error
 * (-32700), not an HTTP 400.
 */
export class RpcServer {
  readonly app: FastifyInstance
  private pingTimer: NodeJS.Timeout | undefined

  constructor(
    readonly opts: RpcServerOptions,
    private readonly modules: {
      dispatcher: RpcDispatcher
      ctx: RpcContext
      registry: Registry | null
      metrics: RpcMetrics | null
      logger: Logger
    },
  ) {
    this.app = Fastify({ bodyLimit: modules.ctx.limits.bodyLimit, logger: false, forceCloseConnections: true })
  }

  async listen(): Promise<string> {
    const { app } = this
    const { dispatcher, registry, metrics, logger } = this.modules
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    await app.register(websocket, { options: { maxPayload: this.opts.wsMaxPayload } })

    app.route({
      method: 'GET',
      url: '/',
      handler: async (_req, reply) =>
        reply.code(405).send({ error: 'use POST with a JSON-RPC body, or a WebSocket upgrade' }),
      wsHandler: (socket) => {
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
          void dispatcher.handleText(data.toString(), { connection: sink }).then((res) => {
            if (res !== undefined) sink.send(res)
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

    app.post('/', async (req, reply) => {
      const body = typeof req.body === 'string' ? req.body : ''
      const res = await dispatcher.handleText(body)
      reply.header('content-type', 'application/json')
      return res ?? ''
    })

    app.get('/health', async () => ({ status: 'ok' }))
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
