import type { Socket } from 'node:net'

/** How long a connection ended after an error answer stays open to take what the client still sends. */
export const LINGER_MS = 1000

/**
 * Ends `socket` after `answer` with a lingering close (nginx's): our side ends (FIN after the
 * answer), what the client still sends is read and dropped, and the socket is destroyed once the
 * client closes, or after {@link LINGER_MS}. Destroying a socket whose client is still sending makes
 * the kernel send a reset, and a client that gets one loses what it had not read yet: the answer,
 * and the answers before it.
 */
export function endLingering(socket: Socket, answer: string): void {
  // A write that comes after this end (an answer still being made) or a reset: the socket's error,
  // not the process's.
  socket.on('error', () => {})
  socket.end(answer)
  const linger = setTimeout(() => socket.destroy(), LINGER_MS)
  linger.unref()
  socket.once('close', () => clearTimeout(linger))
  socket.resume()
}
