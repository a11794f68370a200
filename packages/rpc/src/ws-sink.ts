import type { Logger } from '@cairn/utils'
import type { SubscriptionSink } from './subscriptions.ts'

/** What a WebSocket connection's sink uses of its `ws` socket. */
export interface SinkSocket {
  readonly bufferedAmount: number
  send(data: string): void
  terminate(): void
}

/** A WebSocket connection's sink, as the server keeps it: `closed` is set when the socket closes. */
export type WebSocketSink = SubscriptionSink & { closed: boolean }

/**
 * The sink of one WebSocket connection: answers and notifications go to `socket` until the client
 * falls more than `maxBufferedBytes` behind (it does not read), then the socket is terminated —
 * logged once and counted once (`dropped`), and whatever else was on its way to it (a burst of log
 * notifications) is dropped in silence: one warning per connection, not one per message (a slow
 * consumer once wrote 2,098 identical lines in a millisecond).
 */
export function webSocketSink(
  opts: { maxBufferedBytes: number; ip: string },
  modules: { socket: SinkSocket; logger: Logger; dropped: { inc(): void } | undefined },
): WebSocketSink {
  const { socket, logger, dropped } = modules
  let terminated = false
  return {
    closed: false,
    subscriptions: new Map(),
    send(message) {
      if (terminated) return
      if (socket.bufferedAmount > opts.maxBufferedBytes) {
        terminated = true
        dropped?.inc()
        logger.warn(
          { ip: opts.ip, buffered: socket.bufferedAmount, limit: opts.maxBufferedBytes },
          'closing a WebSocket client that does not read',
        )
        socket.terminate()
        return
      }
      socket.send(message)
    },
  }
}
