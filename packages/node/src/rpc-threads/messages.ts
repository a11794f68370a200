/**
 * Main thread → read thread, in batches (one `postMessage` of an array: {@link Outbox}). Delivered
 * in order: a `head` is applied before the requests after it.
 */
export type ToThread =
  /** `clear`: the main thread's store dropped its caches (blocks were deleted): drop the thread's too. */
  { type: 'head'; hash: string; clear: boolean } | { type: 'request'; id: number; text: string } | { type: 'stop' }

/** Read thread → main thread. */
export type FromThread =
  | { type: 'ready'; head: string }
  /** `failed`: the thread threw outside the dispatcher (answered as RPC_READ_THREAD_STOPPED). */
  | { type: 'response'; id: number; text: string | undefined; failed?: true }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }

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
