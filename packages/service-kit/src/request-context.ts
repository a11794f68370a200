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

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The id of a request: the caller's `x-request-id` when it is sane (1–128 characters of
 * `[A-Za-z0-9._:-]`, so it cannot forge log lines or headers), else a fresh UUID.
 */
export function requestId(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header
  return given !== undefined && SANE_ID.test(given) ? given : randomUUID()
}
