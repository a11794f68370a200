import type { Socket } from 'node:net'
import { CairnError } from '@cairn/utils'
import type { RefusalKind } from '../auth/gate.ts'
import { RpcErrorCode } from '../errors.ts'
import type { ConnectionCap } from './connection-cap.ts'
import { isJsonContentType } from './content-type.ts'
import type { LagSource } from './event-loop-lag.ts'
import { hostAllowed } from './host-check.ts'
import { wsOriginAllowed } from './origins.ts'

/** What the edge checks read; the server swaps `cors`/`vhosts` on reload. */
export interface EdgeState {
  vhosts: readonly string[]
  cors: readonly string[]
  cap: ConnectionCap
  /** Null: no load shedding. */
  lag: LagSource | null
  shedLagMs: number
}

/** A request refused at the edge, before auth: the error (its HTTP status comes from errors.ts). */
export interface EdgeRefusal {
  kind: RefusalKind
  error: CairnError
  retryAfterSeconds?: number
  /** Close the connection after answering (it is over the per-IP cap). */
  close?: boolean
}

/** Paths that answer even when the node sheds load or the client is over its connection cap. */
const ALWAYS_SERVED = new Set(['/health'])

/**
 * The checks every HTTP request (WebSocket upgrades included) passes before anything else, in
 * order: the virtual host (403), a browser's Origin on a WebSocket upgrade (403), a POST's
 * Content-Type (415 unless JSON, as geth), the per-IP connection cap (429; an upgrade is let
 * through and its WebSocket closed with 1013), and load shedding (503) while the event loop lags
 * past `shedLagMs`. `/health` skips the last two.
 */
export function checkEdge(
  req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; socket: Socket },
  state: EdgeState,
): EdgeRefusal | undefined {
  const host = req.headers.host
  if (!hostAllowed(typeof host === 'string' ? host : undefined, state.vhosts)) {
    return {
      kind: 'invalid_host',
      error: new CairnError(RpcErrorCode.INVALID_HOST, 'invalid host specified', {
        fault: 'caller',
        hint: 'add the host name to http.vhosts',
      }),
    }
  }
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket'
  const origin = req.headers.origin
  if (upgrade && !wsOriginAllowed(typeof origin === 'string' ? origin : undefined, state.cors)) {
    return {
      kind: 'origin_forbidden',
      error: new CairnError(RpcErrorCode.INVALID_HOST, 'websocket: request origin not allowed', {
        fault: 'caller',
        hint: 'add the origin to http.cors',
      }),
    }
  }
  if (req.method === 'POST' && !isJsonContentType(req.headers['content-type'])) {
    const got = req.headers['content-type']
    return {
      kind: 'content_type',
      error: new CairnError(
        RpcErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'invalid content type, only application/json is supported',
        {
          fault: 'caller',
          hint: `send Content-Type: application/json (got ${typeof got === 'string' ? got : 'none'})`,
        },
      ),
    }
  }
  if (ALWAYS_SERVED.has(req.url.split('?')[0] ?? '')) return undefined
  if (!upgrade && state.cap.isOver(req.socket)) {
    return {
      kind: 'connection_limit',
      error: new CairnError(
        RpcErrorCode.CONNECTION_LIMIT,
        `too many connections from your address (limit ${state.cap.limit}); reuse a keep-alive connection`,
        { fault: 'caller', meta: { data: { retryAfter: 1 } } },
      ),
      retryAfterSeconds: 1,
      close: true,
    }
  }
  if (state.lag && state.shedLagMs > 0) {
    const lag = state.lag.lagMs()
    if (lag > state.shedLagMs) {
      const retryAfterSeconds = Math.max(1, Math.ceil(lag / 1000))
      return {
        kind: 'overloaded',
        error: overloaded(retryAfterSeconds),
        retryAfterSeconds,
      }
    }
  }
  return undefined
}

/** The error of a request shed because the node is overloaded. */
export function overloaded(retryAfterSeconds: number): CairnError {
  return new CairnError(RpcErrorCode.OVERLOADED, 'server overloaded: retry later', {
    fault: 'transient',
    hint: `retry after ${retryAfterSeconds} s`,
    meta: { data: { retryAfter: retryAfterSeconds } },
  })
}
