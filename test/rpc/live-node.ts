// A real Cairn dev node started in-process (the composition root of packages/node), listening on a
// free port, for tests that talk to the RPC over its real transports (HTTP POST and WebSocket).
import { createRequire } from 'node:module'
import { type Logger, silentLogger } from '@cairn/utils'
import { loadConfig } from '../../packages/node/src/config/load.ts'
import { type StartedNode, startNode } from '../../packages/node/src/node.ts'
import type { RpcLimits } from '../../packages/rpc/src/index.ts'

export type { StartedNode }

/**
 * Starts `cairn start --dev --ephemeral --http.port 0` in this process, with optional RPC limits;
 * `extra` adds config (flags, env, a config file) and a logger.
 */
export async function startDevNode(
  rpcLimits: Partial<RpcLimits> = {},
  extra: {
    flags?: Record<string, unknown>
    env?: Record<string, string>
    file?: string
    logger?: Logger
    clockMs?: () => number
  } = {},
): Promise<StartedNode> {
  const config = loadConfig({
    flags: {
      dev: true,
      ephemeral: true,
      'http.port': 0,
      'http.addr': '127.0.0.1',
      'log.level': 'silent',
      ...extra.flags,
    },
    env: extra.env ?? {},
    ...(extra.file ? { file: extra.file } : {}),
  })
  return startNode(config, {
    logger: extra.logger ?? silentLogger,
    rpcLimits,
    ...(extra.clockMs ? { clockMs: extra.clockMs } : {}),
  })
}

export interface Posted {
  status: number
  contentType: string | null
  /** The raw response body. */
  text: string
  /** The body parsed as JSON (undefined when empty). */
  json: unknown
}

/** POSTs a raw body (a string is sent as is, anything else as JSON). */
export async function post(url: string, body: unknown): Promise<Posted> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    text,
    json: text ? JSON.parse(text) : undefined,
  }
}

export interface RpcError {
  code: number
  message: string
  data?: unknown
}

export interface RpcResponse {
  jsonrpc: '2.0'
  id: string | number | null
  result?: unknown
  error?: RpcError
}

let nextId = 1

/** One JSON-RPC call; returns the whole response object. */
export async function call(url: string, method: string, params?: unknown): Promise<RpcResponse> {
  const id = nextId++
  const r = await post(url, { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })
  return r.json as RpcResponse
}

/** One JSON-RPC call that must succeed; returns its result. */
export async function result<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await call(url, method, params)
  if (r.error) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`)
  return r.result as T
}

/** Polls eth_getTransactionReceipt until the transaction is mined. */
export async function receipt(url: string, hash: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await result<Record<string, unknown> | null>(url, 'eth_getTransactionReceipt', [hash])
    if (r) return r
    if (Date.now() > deadline) throw new Error(`transaction ${hash} not mined within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket, through the `ws` package (a dependency of @fastify/websocket; it ships no types here)

export interface WsClient {
  on(event: 'message', fn: (data: Buffer) => void): void
  on(event: 'open' | 'close', fn: () => void): void
  on(event: 'error', fn: (err: Error) => void): void
  once(event: 'open' | 'close', fn: () => void): void
  once(event: 'error', fn: (err: Error) => void): void
  send(data: string): void
  close(): void
  terminate(): void
  readyState: number
}
type WsConstructor = new (url: string) => WsClient
const WebSocket = createRequire(import.meta.url)('ws') as WsConstructor

/** A WebSocket JSON-RPC client that keeps every message it receives. */
export class WsRpc {
  readonly messages: Record<string, unknown>[] = []
  private waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    []
  private id = 1

  private constructor(readonly socket: WsClient) {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>
      this.messages.push(msg)
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(msg)) return true
        w.resolve(msg)
        return false
      })
    })
  }

  static connect(httpUrl: string): Promise<WsRpc> {
    const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'))
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsRpc(socket)))
      socket.once('error', reject)
    })
  }

  /** The first message (already received or to come) that matches, within `timeoutMs`. */
  next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching WebSocket message within ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
  }

  async request(method: string, params: unknown[] = []): Promise<RpcResponse> {
    const id = this.id++
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    return (await this.next((m) => m.id === id)) as unknown as RpcResponse
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === 3) return resolve()
      this.socket.once('close', () => resolve())
      this.socket.close()
    })
  }
}
