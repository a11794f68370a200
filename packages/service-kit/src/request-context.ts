import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'

/** What every log line written while serving one request carries. */
export interface RequestContext {
  reqId: string
}

/**
 * The request being served, carried across awaits: the logger adds its `reqId` to every line
 * written while the request runs, whichever module writes it.
 */
export const requestContext = new AsyncLocalStorage<RequestContext>()

let inFlight = 0

/**
 * Runs `fn` (one request) in the request context, and turns the context off again once no request
 * runs in it. On Node 20 an enabled AsyncLocalStorage runs a hook on every promise the process
 * creates, whoever creates it: ~20% of a cheap read's CPU and ~25% of an `eth_call` (the EVM awaits
 * per opcode). Servers run requests that can make other modules log (sending transactions, mining,
 * admin and debug methods) through here, and serve pure reads without the context, naming their
 * request on their own lines ({@link requestFields}). Work a request left running past its end (a
 * block sealed after the answer) may lose the id.
 */
export async function inRequestContext<T>(ctx: RequestContext, fn: () => Promise<T>): Promise<T> {
  inFlight++
  try {
    return await requestContext.run(ctx, fn)
  } finally {
    if (--inFlight === 0) requestContext.disable()
  }
}

/** `{ reqId }` for a log line about a request, unless the request context already adds it. */
export function requestFields(reqId: string): { reqId?: string } {
  return requestContext.getStore() ? {} : { reqId }
}

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The id of a request: the caller's `x-request-id` when it is sane (1–128 characters of
 * `[A-Za-z0-9._:-]`, so it cannot forge log lines or headers), else a fresh UUID.
 */
export function requestId(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header
  return given !== undefined && SANE_ID.test(given) ? given : randomUUID()
}
