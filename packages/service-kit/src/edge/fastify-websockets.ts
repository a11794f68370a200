import type { Server } from 'node:http'
import { orderUpgrades } from './ordered-upgrades.ts'
import { type ClosableWebSocket, closeWebSocketsGoingAway } from './websockets-going-away.ts'

/** What {@link guardFastifyWebSockets} needs of a Fastify app with @fastify/websocket registered. */
export interface FastifyWebSocketApp {
  server: Server
  websocketServer?: { clients: Iterable<ClosableWebSocket> }
  addHook(name: 'onReady' | 'preClose', hook: () => Promise<void>): unknown
}

/**
 * How long an upgrade request pipelined behind other requests waits for their answers on a Fastify
 * server with no request timeout of its own, before its connection is closed (a client that does
 * not read them).
 */
export const UPGRADE_WAIT_MS = 30_000

/**
 * For a service's own Fastify app with @fastify/websocket registered (call it right after the
 * plugin): once the app is ready, upgrades pipelined behind other requests wait for their answers
 * ({@link orderUpgrades}); when it closes, those still waiting end, and open WebSockets get 1001
 * and end at once ({@link closeWebSocketsGoingAway}).
 */
export function guardFastifyWebSockets(app: FastifyWebSocketApp, upgradeWaitMs = UPGRADE_WAIT_MS): void {
  let upgrades: ReturnType<typeof orderUpgrades> | undefined
  app.addHook('onReady', async () => {
    upgrades = orderUpgrades(app.server, upgradeWaitMs)
  })
  app.addHook('preClose', async () => {
    upgrades?.close()
    closeWebSocketsGoingAway(app.websocketServer?.clients)
  })
}
