// A read thread's own listener (`--rpc.threads` on Node ≥ 22.12, Linux): the node's RPC server —
// the same edge checks, auth, rate limits, WebSocket and routes — bound to the main thread's port
// with SO_REUSEPORT, so the kernel spreads connections over the main thread and the threads. Reads
// (`answerableOnThread`) are answered here at the main thread's head; every other body (writes,
// subscriptions, `pending`, dev and admin methods) goes to the main thread and its answer comes
// back. What must be one for the whole node stays on the main thread and is asked for: the rate
// limit windows, `/ready`'s health checks, `/metrics` (every thread's registry merged). A WebSocket
// whose bodies went to the main thread gets the main thread's notifications through this thread.
import {
  answerableOnThread,
  type BodyDispatcher,
  type HtmlPage,
  type RpcLimits,
  type RpcMetrics,
  type RpcSecurity,
  RpcServer,
  type RpcServerOptions,
  type SubscriptionSink,
  UNPARSEABLE,
} from '@cairn/rpc'
import type { HealthReport, LimitDecision, RateLimitStore } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { Ask } from './messages.ts'

/**
 * The listener's settings: the main thread's server options (serializable), its port set at
 * `listen`, and the pages it serves too (a GhostDAG node's `/dag`).
 */
export type ThreadServerOptions = Omit<RpcServerOptions, 'port'> & { pages?: HtmlPage[] }

export interface ThreadServerModules {
  /** The thread's dispatcher of the read methods. */
  local: BodyDispatcher
  /** Resolves once the thread's head is the main thread's latest (see HeadSeq). */
  headSynced(): Promise<void> | undefined
  /** Asks the main thread; resolves with its answer. */
  ask(ask: Ask): Promise<unknown>
  /** Tells the main thread a forwarded WebSocket connection closed. */
  closed(conn: number): void
  limits: RpcLimits
  registry: Registry
  metrics: RpcMetrics
  logger: Logger
}

/** The thread's side of the node's RPC server; see the file's comment. */
export class ThreadServer {
  private server: RpcServer | null = null
  /** WebSocket connections whose bodies went to the main thread, by the number the main thread knows them by. */
  private readonly sinks = new Map<number, SubscriptionSink>()
  private readonly connOf = new WeakMap<SubscriptionSink, number>()
  private nextConn = 1

  constructor(
    private readonly opts: ThreadServerOptions,
    private readonly modules: ThreadServerModules,
  ) {}

  async listen(port: number): Promise<void> {
    const { modules } = this
    const dispatcher: BodyDispatcher = {
      handleParsed: (body, call = {}) => {
        // Unparseable: the local dispatcher answers the parse error as the main thread would.
        if (body === UNPARSEABLE) return modules.local.handleParsed(body, call)
        if (answerableOnThread(body)) {
          const synced = modules.headSynced()
          return synced
            ? synced.then(() => modules.local.handleParsed(body, call))
            : modules.local.handleParsed(body, call)
        }
        const ask: Ask = { what: 'dispatch', text: JSON.stringify(body.value), reqId: call.reqId ?? '' }
        if (call.connection) ask.conn = this.connection(call.connection)
        return modules.ask(ask) as Promise<string | undefined>
      },
    }
    const rateLimitStore: RateLimitStore = {
      hit: (key, weight, limit, windowMs, nowMs) =>
        modules.ask({ what: 'rate', key, weight, limit, windowMs, nowMs }) as Promise<LimitDecision>,
    }
    const { pages, ...opts } = this.opts
    this.server = new RpcServer(
      { ...opts, port, reusePort: true },
      {
        ...(pages ? { pages } : {}),
        dispatcher,
        ctx: { limits: modules.limits },
        registry: modules.registry,
        metricsPage: {
          contentType: modules.registry.contentType,
          metrics: () => modules.ask({ what: 'metrics' }) as Promise<string>,
        },
        metrics: modules.metrics,
        logger: modules.logger,
        health: { run: () => modules.ask({ what: 'ready' }) as Promise<HealthReport> },
        rateLimitStore,
      },
    )
    await this.server.listen()
  }

  /** The number of a WebSocket connection whose bodies go to the main thread (its notifications come back by it). */
  private connection(sink: SubscriptionSink): number {
    let conn = this.connOf.get(sink)
    if (conn !== undefined) return conn
    conn = this.nextConn++
    this.connOf.set(sink, conn)
    this.sinks.set(conn, sink)
    const id = conn
    // The server ends a closing socket's subscriptions: this entry tells the main thread to end its own.
    sink.subscriptions.set(`thread-forwarded-${id}`, () => {
      this.sinks.delete(id)
      this.modules.closed(id)
    })
    return conn
  }

  /** Delivers a message from the main thread to WebSocket connection `conn` (gone: dropped). */
  send(conn: number, text: string): void {
    const sink = this.sinks.get(conn)
    if (sink && !sink.closed) sink.send(text)
  }

  reconfigure(security: RpcSecurity): void {
    this.server?.reconfigure(security)
  }

  reloadTls(): void {
    try {
      this.server?.reloadTls()
    } catch (err) {
      this.modules.logger.error({ err }, 'read thread could not reload the TLS files; keeping the old certificate')
    }
  }

  async close(): Promise<void> {
    await this.server?.close()
  }
}
