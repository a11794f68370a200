import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'

/** How long a connection refused for a bad request stays open to take what the client still sends. */
export const LINGER_MS = 1000

/** Connections already answered: Node's parser reports its error again for every later chunk. */
const answered = new WeakSet<Socket>()

/**
 * Fastify's `clientErrorHandler` (a request Node's parser refuses, a header too large, a request
 * that does not arrive in time): Fastify's own answer (400, 431 or 408, the same bodies), then a
 * lingering close instead of its `destroy()`. Closing a socket whose client is still sending (a
 * pipelined stream) makes the kernel send a reset, and a client that gets a reset loses what it
 * had not read yet: the 400, and the answers to the requests before it (seen in the fast lane's
 * property test, with the lane and without). Here the answer ends our side (FIN after it), what
 * the client still sends is read and dropped, and the connection is destroyed once the client
 * closes, or after {@link LINGER_MS} (nginx's lingering close, as the fast lane does for its 408).
 */
export function lingeringClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return
  answered.add(socket)
  const [code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Client Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Exceeded maximum allowed HTTP header size']
        : [400, 'Client Error']
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const status = STATUS_CODES[code]
  const body = `{"error":"${status}","message":"${message}","statusCode":${code}}`
  // An answer still being made writes after this end: an error on the socket, not the process's.
  socket.on('error', () => {})
  socket.end(
    `HTTP/1.1 ${code} ${status}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`,
  )
  const linger = setTimeout(() => socket.destroy(), LINGER_MS)
  linger.unref()
  socket.once('close', () => clearTimeout(linger))
  socket.resume()
}
