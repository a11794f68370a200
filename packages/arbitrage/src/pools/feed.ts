// What makes the pipeline tick: new heads and removed logs pushed over a WebSocket subscription
// when one is configured, an interval otherwise — and the same interval while the socket is down.
// Once the socket is back after a drop, the tracker's next poll reconciles every pool with
// getReserves. With the socket live, the interval still ticks every `safetyEvery`-th time.
import type { Logger } from '@cairn/utils'
import type { ArbMetrics } from '../metrics.ts'
import { ChainStream, type ChainStreamOptions } from './chain-stream.ts'
import type { PoolTracker } from './tracker.ts'

export interface ChainFeedOptions {
  /** Poll interval, ms. */
  pollMs: number
  /** ws:// URL to subscribe on; null: poll only. */
  ws: string | null
  /** With the socket live, the interval ticks once every this many intervals (default 10). */
  safetyEvery?: number
  reconnect?: ChainStreamOptions['reconnect']
}

export interface ChainFeedModules {
  tracker: Pick<PoolTracker, 'noteRemoved' | 'requestReconcile'>
  logger: Logger
  /** Runs a poll (serialised by the caller: a tick asked for while one runs runs again after it). */
  tick: () => unknown
  metrics?: Pick<ArbMetrics, 'wsConnected' | 'wsDisconnects'> | null
  /** Told when the subscription is back after a drop (notifications were lost: the engine looks at every cycle). */
  onReconnect?: () => void
  /** Told when the subscription comes up or goes down. */
  onSubscription?: (state: 'live' | 'down') => void
}

export class ChainFeed {
  private readonly stream: ChainStream | null
  private timer: ReturnType<typeof setInterval> | undefined
  private wasDown = false
  private quiet = 0

  constructor(
    readonly opts: ChainFeedOptions,
    private readonly modules: ChainFeedModules,
  ) {
    const { tracker, logger, tick } = modules
    const m = modules.metrics ?? null
    this.stream = opts.ws
      ? new ChainStream(
          { url: opts.ws, ...(opts.reconnect ? { reconnect: opts.reconnect } : {}) },
          {
            logger: logger.child({ module: 'chain-stream' }),
            events: {
              head: () => void tick(),
              removed: (b) => {
                tracker.noteRemoved(b.number, b.hash)
                void tick()
              },
              up: () => {
                m?.wsConnected.set(1)
                if (this.wasDown) {
                  tracker.requestReconcile()
                  modules.onReconnect?.()
                }
                this.wasDown = false
                modules.onSubscription?.('live')
                void tick()
              },
              down: (reason) => {
                this.wasDown = true
                m?.wsConnected.set(0)
                m?.wsDisconnects.inc()
                logger.warn({ reason }, 'WebSocket subscription lost: polling every interval until it is back')
                modules.onSubscription?.('down')
              },
            },
          },
        )
      : null
  }

  /** 'live' (subscribed), 'down' (polling, reconnecting) or 'off' (no WebSocket configured). */
  get subscription(): 'live' | 'down' | 'off' {
    return this.stream ? (this.stream.connected ? 'live' : 'down') : 'off'
  }

  start(): void {
    this.stream?.start()
    const every = this.opts.safetyEvery ?? 10
    this.timer = setInterval(() => {
      if (!this.stream?.connected || ++this.quiet % every === 0) void this.modules.tick()
    }, this.opts.pollMs)
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.stream?.close()
  }
}
