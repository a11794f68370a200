import { createServer as createPlainServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'

/**
 * A service port's Node server, plain or TLS, with a bound on how long a request may take to arrive
 * (`requestTimeoutMs`, headers included): Node answers 408 and closes a connection whose request is
 * still incomplete then. Node checks open connections every `connectionsCheckingInterval` (30 s by
 * default); it is scaled to the timeout so a short one is enforced near its value.
 */
export function createHttpServer(
  tls: { cert: Buffer; key: Buffer } | null,
  requestTimeoutMs: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const timeouts = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
  }
  return tls ? createTlsServer({ ...tls, ...timeouts }, handler) : createPlainServer(timeouts, handler)
}
