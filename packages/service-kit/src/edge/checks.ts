import type { Socket } from 'node:net'
import type { LagSource } from './event-loop-lag.ts'
import { hostAllowed } from './host-check.ts'
import { wsOriginAllowed } from './origins.ts'

/** What the edge checks read; a service swaps `cors`/`vhosts` on reload. */
export interface EdgeState {
  vhosts: readonly string[]
  cors: readonly string[]
  /** Null: no load shedding. */
  lag: LagSource | null
  shedLagMs: number
}

/**
 * Why a request was refused at the edge (a fixed label for metrics). `connection_limit` is no
 * longer a request's refusal: a connection past its address's cap is closed as it arrives
 * (connection-cap.ts); the kind stays for the services' error tables.
 */
export type EdgeRefusalKind = 'invalid_host' | 'origin_forbidden' | 'content_type' | 'connection_limit' | 'overloaded'

/**
 * A request refused at the edge, before auth. Transport-neutral: each service turns it into its
 * own error (code, HTTP status, body) in its one mapping place.
 */
export interface EdgeRefusal {
  kind: EdgeRefusalKind
  message: string
  hint?: string
  retryAfterSeconds?: number
  /** Close the connection after answering. */
  close?: boolean
}

/** The parts of a request the checks read (a Fastify request or a raw IncomingMessage). */
export interface EdgeRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  socket: Socket
}

export interface EdgeCheckOptions {
  /** Accepts a POST's Content-Type (a JSON-RPC port refuses form posts); absent: any type passes. */
  contentType?: (header: string | string[] | undefined) => boolean
  /** Paths answered even while shedding load (default `/health`). */
  alwaysServed?: ReadonlySet<string>
  /**
   * Which browser origins may open a WebSocket: `listed` (default; the CORS list, or only
   * `http://localhost` when it is empty, as geth's `--ws.origins`) or `any` — for a service whose
   * sockets carry no ambient credentials (the token is in the URL), where a foreign page gains
   * nothing it could not get by asking itself.
   */
  webSocketOrigins?: 'listed' | 'any'
}

const ALWAYS_SERVED: ReadonlySet<string> = new Set(['/health'])

/**
 * The checks every HTTP request (WebSocket upgrades included) passes before anything else, in
 * order: the virtual host (geth's `--http.vhosts`), a browser's Origin on a WebSocket upgrade, a
 * POST's Content-Type (when the service restricts it), and load shedding while the event loop lags
 * past `shedLagMs`. The always-served paths (`/health`) skip the last. Connections are limited
 * before any request, as they arrive (connection-cap.ts).
 */
export function checkEdge(req: EdgeRequest, state: EdgeState, opts: EdgeCheckOptions = {}): EdgeRefusal | undefined {
  const header = req.headers.host
  // An absolute-form target (`GET http://evil.com/ HTTP/1.1`) names the host itself, and a server
  // takes the host from it, not from the Host header (RFC 9112 §3.2.2): check that one.
  const target = targetAuthority(req.url)
  if (target === null) {
    return {
      kind: 'invalid_host',
      message: 'invalid request target',
      hint: 'send the path alone (origin form, e.g. POST /), with the host in the Host header',
    }
  }
  const host = target ?? (typeof header === 'string' ? header : undefined)
  if (!hostAllowed(host, state.vhosts)) {
    return { kind: 'invalid_host', message: 'invalid host specified', hint: 'add the host name to http.vhosts' }
  }
  const upgradeHeader = req.headers.upgrade
  const upgrade = upgradeHeader !== undefined && String(upgradeHeader).toLowerCase() === 'websocket'
  const origin = req.headers.origin
  if (
    upgrade &&
    opts.webSocketOrigins !== 'any' &&
    !wsOriginAllowed(typeof origin === 'string' ? origin : undefined, state.cors)
  ) {
    return {
      kind: 'origin_forbidden',
      message: 'websocket: request origin not allowed',
      hint: 'add the origin to http.cors',
    }
  }
  if (opts.contentType && req.method === 'POST' && !opts.contentType(req.headers['content-type'])) {
    const got = req.headers['content-type']
    return {
      kind: 'content_type',
      message: 'invalid content type, only application/json is supported',
      hint: `send Content-Type: application/json (got ${typeof got === 'string' ? got : 'none'})`,
    }
  }
  const query = req.url.indexOf('?')
  if ((opts.alwaysServed ?? ALWAYS_SERVED).has(query < 0 ? req.url : req.url.slice(0, query))) return undefined
  return shedding(state)
}

/**
 * The host a request target names: undefined for the origin form (`/path`, `*`), the authority of
 * the absolute form (`http://host:port/path`), null for a target that is neither (or an absolute
 * one without a host), which no server of ours answers.
 */
export function targetAuthority(url: string): string | undefined | null {
  if (url.startsWith('/') || url === '*') return undefined
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*@)?([^/?#]+)/i.exec(url)
  return m ? (m[2] as string) : null
}

/** The refusal of a request (or a WebSocket message) while the event loop lags past the threshold. */
export function shedding(state: Pick<EdgeState, 'lag' | 'shedLagMs'>): EdgeRefusal | undefined {
  if (!state.lag || state.shedLagMs <= 0) return undefined
  const lag = state.lag.lagMs()
  if (lag <= state.shedLagMs) return undefined
  const retryAfterSeconds = Math.max(1, Math.ceil(lag / 1000))
  return {
    kind: 'overloaded',
    message: 'server overloaded: retry later',
    hint: `retry after ${retryAfterSeconds} s`,
    retryAfterSeconds,
  }
}
