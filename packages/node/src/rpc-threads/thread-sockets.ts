import type { SubscriptionSink } from '@cairn/rpc'

/**
 * The main thread's side of the WebSocket connections that reached one read thread's listener and
 * subscribed (their bodies are the main thread's): a sink per connection, by the number the thread
 * gave it, whose notifications go back through the thread ({@link send}). A connection the thread
 * says closed, or every one of a thread that stopped, ends its subscriptions here.
 */
export class ThreadSockets {
  private readonly sinks = new Map<number, SubscriptionSink & { closed: boolean }>()

  constructor(private readonly send: (conn: number, text: string) => void) {}

  /** The sink of connection `conn`, made on its first body. */
  sinkOf(conn: number): SubscriptionSink {
    let sink = this.sinks.get(conn)
    if (!sink) {
      const made: SubscriptionSink & { closed: boolean } = {
        closed: false,
        subscriptions: new Map(),
        send: (text) => {
          if (!made.closed) this.send(conn, text)
        },
      }
      sink = made
      this.sinks.set(conn, made)
    }
    return sink
  }

  /** Connection `conn` closed: its subscriptions end. */
  close(conn: number): void {
    const sink = this.sinks.get(conn)
    if (!sink) return
    this.sinks.delete(conn)
    sink.closed = true
    for (const off of sink.subscriptions.values()) off()
    sink.subscriptions.clear()
  }

  /** The thread stopped: every connection of its listener is gone. */
  closeAll(): void {
    for (const conn of [...this.sinks.keys()]) this.close(conn)
  }
}
