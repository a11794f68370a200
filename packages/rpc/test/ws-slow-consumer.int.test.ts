// A WebSocket client that falls behind is closed once: one warning and one count per connection,
// however many notifications were still on their way to it (a burst of logs once wrote 2,098
// identical warnings in the same millisecond). A real RpcServer on loopback whose dispatcher
// floods the connection it was called on.
import { writerLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  DEFAULT_RPC_SERVER_OPTIONS,
  type RpcContext,
  type RpcDispatcher,
  RpcServer,
} from '../src/index.ts'
import { WebSocket } from './edge-server.ts'

const NOTIFICATIONS = 2_000
const NOTIFICATION = JSON.stringify({
  jsonrpc: '2.0',
  method: 'eth_subscription',
  params: { result: 'x'.repeat(32_768) },
})

const servers: RpcServer[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

describe('a WebSocket client that does not keep up', () => {
  it('is terminated with one warning and one count, the rest of the burst dropped in silence', async () => {
    const warnings: string[] = []
    const logger = writerLogger((level, _fields, msg) => {
      if (level === 'warn') warnings.push(msg)
    })
    const registry = new Registry()
    // Every message floods the connection it came on, in one turn: far past the buffer limit.
    const dispatcher = {
      handleParsed: (_body: unknown, call: { connection?: { send(m: string): void } }) => {
        for (let i = 0; i < NOTIFICATIONS; i++) call.connection?.send(NOTIFICATION)
        return undefined
      },
    } as unknown as RpcDispatcher
    const server = new RpcServer(
      { ...DEFAULT_RPC_SERVER_OPTIONS, host: '127.0.0.1', port: 0, wsMaxBufferedBytes: 64 * 1024 },
      {
        dispatcher,
        ctx: { limits: DEFAULT_RPC_LIMITS } as RpcContext,
        registry,
        metrics: createRpcMetrics(registry),
        logger,
        health: null,
        rateLimitStore: null,
      },
    )
    servers.push(server)
    const url = await server.listen()
    const ws = new WebSocket(url.replace(/^http/, 'ws'))
    ws.on('error', () => {})
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
    await new Promise<void>((resolve) => ws.on('open', () => resolve()))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['logs'] }))
    await closed
    expect(warnings.filter((m) => m === 'closing a WebSocket client that does not read')).toHaveLength(1)
    expect(await registry.getSingleMetricAsString('cairn_rpc_websocket_slow_clients_closed_total')).toMatch(
      /^cairn_rpc_websocket_slow_clients_closed_total 1$/m,
    )
  })
})
