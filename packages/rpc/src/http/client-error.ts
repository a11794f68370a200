import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { endLingering } from './linger.ts'

/** Connections already answered: Node's parser reports its error again for every later chunk. */
const answered = new WeakSet<Socket>()

/**
 * Fastify's `clientErrorHandler` (a request Node's parser refuses, a header too large, a request
 * that does not arrive in time): Fastify's own answer (400, 431 or 408, the same bodies), then a
 * lingering close ({@link endLingering}, as the fast lane ends its 408s) instead of its
 * `destroy()`, whose reset lost the 400 and the answers before it to a client still sending a
 * pipelined stream (seen in the fast lane's property test, with the lane and without).
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
  endLingering(
    socket,
    `HTTP/1.1 ${code} ${status}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`,
  )
}
