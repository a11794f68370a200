// JSON-RPC calls over a WebSocket that survive the node going away for any length of time. viem's
// own `webSocket` transport reconnects a few times and then keeps a dead socket for good (its
// client stays cached; a reconnect that fails to connect schedules no further attempt): here every
// call checks the socket and opens a new one when it is closed, so the first call after the node is
// back succeeds. Calls fail fast (the caller's poll logs and counts it) while the node is away.
import { custom, RpcRequestError, type Transport } from 'viem'
import { getWebSocketRpcClient } from 'viem/utils'

type SocketClient = Awaited<ReturnType<typeof getWebSocketRpcClient>>

const OPEN = 1

/** A viem transport for calls over `url` (ws:// or wss://) that reopens its socket when needed. */
export function reconnectingWebSocket(url: string, opts: { timeoutMs: number }): Transport {
  let client: Promise<SocketClient> | null = null
  const socket = async (): Promise<SocketClient> => {
    if (client) {
      const c = await client.catch(() => null)
      if (c && (c.socket as { readyState?: number }).readyState === OPEN) return c
      c?.close() // drops viem's cache entry, so the next getWebSocketRpcClient opens a new socket
    }
    // keepAlive off: this socket is not shared with the subscription's (viem keys sockets by options)
    client = getWebSocketRpcClient(url, { reconnect: false, keepAlive: false })
    return client
  }
  return custom(
    {
      async request({ method, params }) {
        const c = await socket()
        const body = { method, params }
        const r = await c.requestAsync({ body, timeout: opts.timeoutMs })
        if (r.error) throw new RpcRequestError({ body, error: r.error, url })
        return r.result
      },
    },
    { key: 'webSocket', name: 'WebSocket JSON-RPC (reopening)', retryCount: 0 },
  )
}
