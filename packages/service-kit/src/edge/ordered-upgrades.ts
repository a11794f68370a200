import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** What {@link orderUpgrades} leaves its caller: the server's close() ends the waiting upgrades. */
export interface OrderedUpgrades {
  /** Destroys the connections whose upgrade still waits for the answers ahead of it. */
  close(): void
  /** Upgrade requests waiting now. */
  readonly waiting: number
}

type OnUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) => void

/** The response Node is writing on `socket`, if any (its own field: no public accessor). */
const answering = (socket: Socket) => (socket as Socket & { _httpMessage?: EventEmitter | null })._httpMessage

/**
 * Node emits 'upgrade' for an upgrade request pipelined behind other requests (`GET /health`, then
 * a WebSocket handshake, in one packet) as soon as it parses it — its parser and timeouts gone,
 * while the answers ahead of it are still under way and the socket still belongs to one of them.
 * @fastify/websocket's listener then cannot take the socket (ERR_HTTP_SOCKET_ASSIGNED, which it
 * swallows) and nothing owns it: it stays open after the client goes, counted against the IP's
 * cap, and the server's close() waits on it. Here such an upgrade waits for those answers, then
 * goes to the listeners as one sent alone; a wait longer than `requestTimeoutMs` (a client that
 * does not read them; 0: no bound) closes the connection, as does the returned `close()`.
 *
 * Takes over the 'upgrade' listeners on `server` (a node:http or node:https server) when called:
 * call it once they are all there (after @fastify/websocket has loaded: `await app.register(…)`
 * or an `onReady` hook).
 */
export function orderUpgrades(server: EventEmitter, requestTimeoutMs: number): OrderedUpgrades {
  const listeners = server.listeners('upgrade') as OnUpgrade[]
  server.removeAllListeners('upgrade')
  const waiting = new Set<Socket>()
  const pass = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    for (const listener of listeners) listener.call(server, req, socket, head)
  }
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!answering(socket)) return pass(req, socket, head)
    // Node took its own error listener off the socket: a reset while waiting must not throw.
    const onError = () => socket.destroy()
    const done = () => {
      if (timer) clearTimeout(timer)
      waiting.delete(socket)
      socket.removeListener('error', onError)
      socket.removeListener('close', done)
    }
    const timer = requestTimeoutMs > 0 ? setTimeout(() => socket.destroy(), requestTimeoutMs) : undefined
    waiting.add(socket)
    socket.on('error', onError)
    socket.once('close', done)
    const next = () => {
      if (socket.destroyed) return
      const ahead = answering(socket)
      // The answer's 'close' comes a tick after Node gave the socket to the next one, if any.
      if (ahead) return void ahead.once('close', next)
      done()
      // The last answer ahead ended the connection (Connection: close): nothing to upgrade.
      if (!socket.writable) return void socket.destroy()
      pass(req, socket, head)
    }
    next()
  })
  return {
    close: () => {
      for (const socket of waiting) socket.destroy()
    },
    get waiting() {
      return waiting.size
    },
  }
}
