/** Main thread → read thread. Delivered in order: a `head` is applied before the requests after it. */
export type ToThread =
  /** `clear`: the main thread's store dropped its caches (blocks were deleted): drop the thread's too. */
  { type: 'head'; hash: string; clear: boolean } | { type: 'request'; id: number; text: string } | { type: 'stop' }

/** Read thread → main thread. */
export type FromThread =
  | { type: 'ready'; head: string }
  /** `failed`: the thread threw outside the dispatcher (answered as RPC_READ_THREAD_STOPPED). */
  | { type: 'response'; id: number; text: string | undefined; failed?: true }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
