/** What {@link closeWebSocketsGoingAway} needs of a WebSocket (ws's `WebSocket`). */
export interface ClosableWebSocket {
  close(code?: number, reason?: string): void
  terminate(): void
}

/** WebSocket close code sent to open connections when the server closes (1001: going away). */
export const WS_CLOSE_GOING_AWAY = 1001

/**
 * Sends each open WebSocket a close frame (1001: going away) and ends its connection at once, for a
 * server's close(): ws would wait up to 30 s for each client's own close frame — one that abandoned
 * its socket never sends it — and the server's close() with it. Pass `app.websocketServer?.clients`
 * (@fastify/websocket), before `app.close()`.
 */
export function closeWebSocketsGoingAway(clients: Iterable<ClosableWebSocket> | undefined): void {
  for (const client of clients ?? []) {
    client.close(WS_CLOSE_GOING_AWAY, 'server shutting down')
    client.terminate()
  }
}
