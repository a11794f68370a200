// Helpers for the RPC edge tests: a raw HTTP client (Host, Origin and source address under the
// test's control), a `ws` client with options, and an RpcServer over a stub dispatcher (the edge
// sits in front of dispatch, so the answer itself does not matter).
import { request } from 'node:http'
import { createRequire } from 'node:module'
import type { LagSource } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import {
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  DEFAULT_RPC_SERVER_OPTIONS,
  type HtmlPage,
  type RpcContext,
  type RpcDispatcher,
  RpcServer,
  type RpcServerOptions,
} from '../src/index.ts'

export interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** One HTTP request with exactly these headers (Host included), from `localAddress` if given. */
export function rawRequest(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<RawAnswer> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/',
        agent: false,
        setHost: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        headers: { host: u.host, 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        let text = ''
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    req.on('error', reject)
    req.end(opts.body ?? (opts.method === 'GET' || opts.method === 'OPTIONS' ? undefined : CHAIN_ID_BODY))
  })
}

export const CHAIN_ID_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })

export interface WsLike {
  on(event: 'open', fn: () => void): void
  on(event: 'message', fn: (data: Buffer) => void): void
  on(event: 'close', fn: (code: number, reason: Buffer) => void): void
  on(event: 'error', fn: (err: Error) => void): void
  on(event: 'unexpected-response', fn: (req: unknown, res: { statusCode: number }) => void): void
  send(data: string): void
  close(): void
  terminate(): void
}
type WsCtor = new (url: string, opts?: Record<string, unknown>) => WsLike
export const WebSocket = createRequire(import.meta.url)('ws') as WsCtor

/** How a WebSocket attempt ended: opened (and the socket), refused at upgrade (status) or closed (code, reason). */
export type WsOutcome =
  | { kind: 'open'; ws: WsLike }
  | { kind: 'refused'; status: number }
  | { kind: 'closed'; code: number; reason: string }

/** Connects and waits for the first telling event; an open socket that is closed within 300 ms counts as closed. */
export function wsAttempt(url: string, opts: Record<string, unknown> = {}): Promise<WsOutcome> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), opts)
  return new Promise((resolve) => {
    let opened = false
    ws.on('unexpected-response', (_req, res) => resolve({ kind: 'refused', status: res.statusCode }))
    ws.on('error', () => {})
    ws.on('close', (code, reason) => resolve({ kind: 'closed', code, reason: reason.toString() }))
    ws.on('open', () => {
      opened = true
      setTimeout(() => opened && resolve({ kind: 'open', ws }), 300)
    })
  })
}

/** A settable lag source. */
export class FakeLag implements LagSource {
  value = 0
  lagMs(): number {
    return this.value
  }
  close(): void {}
}

/** An RpcServer on 127.0.0.1:0 answering every body with `{"result":"0x539"}`. */
export async function stubServer(
  opts: Partial<RpcServerOptions>,
  modules: { lag?: LagSource; pages?: HtmlPage[] } = {},
): Promise<{ server: RpcServer; url: string; registry: Registry }> {
  const registry = new Registry()
  const dispatcher = {
    handleParsed: async () => JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x539' }),
  } as unknown as RpcDispatcher
  const server = new RpcServer(
    { ...DEFAULT_RPC_SERVER_OPTIONS, host: '127.0.0.1', port: 0, ...opts },
    {
      dispatcher,
      ctx: { limits: DEFAULT_RPC_LIMITS } as RpcContext,
      registry,
      metrics: createRpcMetrics(registry),
      logger: silentLogger,
      health: null,
      rateLimitStore: null,
      ...modules,
    },
  )
  const url = await server.listen()
  return { server, url, registry }
}
