import type { LimitDecision } from '@cairn/service-kit'

/**
 * Main thread → read thread, in batches (one `postMessage` of an array: {@link Outbox}). Delivered
 * in order: a `head` is applied before the requests after it.
 */
export type ToThread =
  /**
   * `clear`: the main thread's store dropped its caches (blocks were deleted): drop the thread's too.
   * `edits`: the main thread edited a head's state without a block (anvil_setBalance…): re-read them.
   * `seq`: the head's number in the shared head sequence ({@link HeadSeq}).
   */
  | { type: 'head'; hash: string; clear: boolean; edits: boolean; seq?: number }
  | { type: 'request'; id: number; text: string }
  | { type: 'stop' }
  /** A thread with its own listener: start it on this port (the main thread's, bound with reusePort). */
  | { type: 'listen'; port: number }
  /** The answer to a thread's {@link FromThread} `ask`. */
  | { type: 'answer'; id: number; value: unknown; error?: string }
  /** A message for a WebSocket connection of the thread's listener (a subscription's notification). */
  | { type: 'ws-send'; conn: number; text: string }
  /** Hot-reloaded RPC settings (`RpcServer.reconfigure`) or re-read TLS files. */
  | { type: 'reconfigure'; security: unknown }
  | { type: 'reload-tls' }
  /** The thread's registry, for `/metrics` (answered by a `metrics` message of the same id). */
  | { type: 'metrics'; id: number }

/** What a listening thread asks the main thread for (answered by an `answer` of the same id). */
export type Ask =
  /** A body the thread does not answer itself (writes, subscriptions, pending, dev and admin methods). */
  | { what: 'dispatch'; text: string; reqId: string; conn?: number }
  /** The shared rate-limit store's decision (the main thread's store: one window per key for all listeners). */
  | { what: 'rate'; key: string; weight: number; limit: number; windowMs: number; nowMs: number }
  /** `/ready`'s report (the node's health checks run on the main thread). */
  | { what: 'ready' }
  /** `/metrics`: every thread's registry merged. */
  | { what: 'metrics' }

/** Read thread → main thread. */
export type FromThread =
  | { type: 'ready'; head: string }
  /** `failed`: the thread threw outside the dispatcher (answered as RPC_READ_THREAD_STOPPED). */
  | { type: 'response'; id: number; text: string | undefined; failed?: true }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
  /** A read of the thread found the database damaged (DB_CORRUPT): logged, counted and /ready by the main thread. */
  | { type: 'corruption'; message: string }
  /** A listening thread's listener is up (or failed to start: `error`). */
  | { type: 'listening'; error?: string }
  | { type: 'ask'; id: number; ask: Ask }
  /** A WebSocket connection whose bodies went to the main thread closed: end its subscriptions. */
  | { type: 'ws-close'; conn: number }
  /** The answer to a main thread's `metrics` question: the thread's registry as prom-client JSON. */
  | { type: 'metrics'; id: number; json: unknown }

/** The rate-limit decision as it crosses threads. */
export type RateAnswer = LimitDecision

/**
 * The head sequence shared by the main thread and its listening threads (a SharedArrayBuffer):
 * the main thread bumps it synchronously when its head moves, before anything can be answered at
 * the new head, and names the new number in the `head` message. A thread that sees a number above
 * the one it applied waits for that message before answering, so a client that was answered at
 * the new head by any listener never reads an older one from another.
 */
export class HeadSeq {
  private readonly cell: Int32Array

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer)
  }

  get(): number {
    return Atomics.load(this.cell, 0)
  }

  bump(): number {
    return Atomics.add(this.cell, 0, 1) + 1
  }
}

/**
 * Messages of one event-loop turn sent as one array: a `postMessage` (a structured clone and a
 * wake-up of the other thread) per request cost the main thread more than the request's own
 * parsing. The first message of a turn schedules the send (setImmediate, after the turn's I/O);
 * {@link flush} sends at once.
 */
export class Outbox<T> {
  private items: T[] = []

  constructor(private readonly send: (items: T[]) => void) {}

  push(m: T): void {
    this.items.push(m)
    if (this.items.length === 1) setImmediate(this.flush)
  }

  readonly flush = (): void => {
    if (this.items.length === 0) return
    const items = this.items
    this.items = []
    this.send(items)
  }
}
