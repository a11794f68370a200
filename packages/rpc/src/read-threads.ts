import { type ParsedBody, UNPARSEABLE } from './body.ts'
import { methodTable } from './method-table.ts'

// Which methods a read thread serves is declared on each method (`readThread`: 'answer' or
// 'forward', method.ts) and derived in method-table.ts. 'answer': pure reads of the stored chain at
// a block the request names, whose answer depends only on the store and the head. Everything else —
// transactions, the pool, subscriptions and filters, dev and admin methods, estimates and traces,
// anything naming `pending` (the pool and the producer live on the main thread) — stays on the main
// thread. 'forward': worth sending to a thread while the main thread still parses every HTTP request
// (Node 20's single listener), whose work (EVM execution, scanning blocks for logs, proofs,
// formatting whole blocks) outweighs the hand-over (a structured clone each way, and the answer's
// promise); a cheap one (`eth_getBalance` of a warm account, `eth_blockNumber`) costs the main
// thread more to forward than to answer: measured in docs/performance-history.md ("Read threads").

/**
 * Whether a parsed body goes to a read thread: every entry (one, or a batch) calls a method that
 * declares `readThread`, at least one of them `'forward'`, and none names the `pending` block
 * (anywhere in its params). An unparseable or empty body, or one with a malformed entry, stays on
 * the main thread (which answers the error).
 */
export function servedOnReadThread(body: ParsedBody): boolean {
  return readsOnly(body, true)
}

/**
 * Whether a read thread with a listener of its own (`reusePort`) answers a parsed body itself:
 * every entry calls a method that declares `readThread` and none names `pending`. Anything else it hands to the main thread.
 */
export function answerableOnThread(body: ParsedBody): boolean {
  return readsOnly(body, false)
}

function readsOnly(body: ParsedBody, needWorth: boolean): boolean {
  if (body === UNPARSEABLE) return false
  const entries = Array.isArray(body.value) ? body.value : [body.value]
  if (entries.length === 0) return false
  const { readThread, readThreadForward } = methodTable()
  let worth = !needWorth
  for (const e of entries) {
    if (typeof e !== 'object' || e === null) return false
    const { method, params } = e as { method?: unknown; params?: unknown }
    if (typeof method !== 'string' || !readThread.has(method)) return false
    if (params !== undefined && namesPending(params)) return false
    worth ||= readThreadForward.has(method)
  }
  return worth
}

function namesPending(v: unknown): boolean {
  if (v === 'pending') return true
  if (Array.isArray(v)) return v.some(namesPending)
  if (typeof v === 'object' && v !== null) return Object.values(v).some(namesPending)
  return false
}

/** Where the server sends the bodies {@link servedOnReadThread} accepts (the node's read-thread pool). */
export interface ReadThreads {
  /**
   * Answers the body on a read thread (the JSON text of the answer; undefined for notifications),
   * or returns null when no thread can take it now (none started yet, all restarting): the main
   * thread answers it then. A thread that dies with the request in flight answers it with a
   * JSON-RPC error (-32603, "read thread … stopped"), never a hang.
   */
  handle(body: { value: unknown }, text: string): Promise<string | undefined> | null
}
