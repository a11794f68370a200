import { createServer as createPlainServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'

/** How long an idle keep-alive connection stays open (ms): geth's `IdleTimeout`. */
export const KEEP_ALIVE_MS = 120_000

/**
 * A service port's Node server, plain or TLS, with a bound on how long a request may take to arrive
 * (`requestTimeoutMs`, headers included): Node answers 408 and closes a connection whose request is
 * still incomplete then. Node checks open connections every `connectionsCheckingInterval` (30 s by
 * default); it is scaled to the timeout so a short one is enforced near its value. An idle
 * keep-alive connection is kept {@link KEEP_ALIVE_MS} (geth's HTTP idle timeout), not Node's 5 s:
 * clients (undici, Go's net/http) keep idle connections for seconds and reuse them, and a server
 * that closes first races a request sent on the closing socket (ECONNRESET, "fetch failed"). With
 * TLS the handshake must also finish within `requestTimeoutMs`. A connection that sends nothing at
 * all is the edge's to close, sooner (connection-cap.ts: the first-byte timeout).
 */
export function createHttpServer(
  tls: { cert: Buffer; key: Buffer } | null,
  requestTimeoutMs: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const timeouts = {
    keepAliveTimeout: KEEP_ALIVE_MS,
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
  }
  // A TLS handshake is part of the first request's arrival: bounded alike (Node's default is 120 s).
  const handshakeTimeout = Math.min(120_000, requestTimeoutMs)
  return tls
    ? createTlsServer({ ...tls, ...timeouts, handshakeTimeout }, handler)
    : createPlainServer(timeouts, handler)
}
