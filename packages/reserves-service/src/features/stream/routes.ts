// WebSocket /v1/stream: snapshot built / anchored, and "your proof is available" for users.
// Browsers cannot set headers on a WebSocket, so the token may also come as ?token=.

import { guardFastifyWebSockets } from '@cairn/service-kit'
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import { type Principal, requireRole } from '../../kernel/auth.ts'
import type { ReservesAuthenticator } from '../../kernel/authenticator.ts'
import { httpError } from '../../kernel/errors-http.ts'
import type { StreamHub } from './hub.ts'

export interface StreamRouteDeps {
  hub: StreamHub
  authenticate: ReservesAuthenticator
}

/** Registers the WebSocket plugin on `app` (the root: upgrades pipelined behind other requests wait for their answers; on close, open streams get 1001) and the route. */
export function registerStream(app: FastifyInstance, d: StreamRouteDeps): void {
  void app.register(websocket, { options: { maxPayload: 4096 } })
  guardFastifyWebSockets(app)
  void app.register(async (inst) => {
    inst.get('/v1/stream', { websocket: true }, async (socket, req) => {
      let principal: Principal
      try {
        const token = (req.query as { token?: string }).token
        const headers = token ? { authorization: `Bearer ${token}` } : (req.headers as Record<string, string>)
        principal = requireRole(await d.authenticate(headers), ['admin', 'auditor', 'user'])
      } catch (err) {
        socket.send(JSON.stringify({ type: 'error', ...httpError(err).body }))
        socket.close(4401, 'unauthenticated')
        return
      }
      const entry = { send: (s: string) => socket.send(s), principal }
      d.hub.streams.add(entry)
      socket.on('close', () => d.hub.streams.delete(entry))
      socket.send(JSON.stringify({ type: 'hello', sub: principal.sub, role: principal.role }))
    })
  })
}
