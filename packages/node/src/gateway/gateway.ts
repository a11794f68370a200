/**
 * `cairn gateway`: one JSON-RPC endpoint for a sharded network. The root endpoint (`/`) routes
 * each request (`routes.ts`): a transaction to its sender's home shard, a read to its address's
 * shard, a lookup by hash to whichever shard has it, the rest to the coordinating shard;
 * `/shard/<n>` passes everything through to shard n unchanged (viem and ethers work against it as
 * against the shard's own node). `cairn_getShardInfo`, `cairn_shardOf` and
 * `cairn_getCrossShardTransaction` (`cross-shard-status.ts`) are the gateway's own.
 * Holds no state and no key: it can be restarted, or run as several instances, at any time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { homeShard } from '@cairn/consensus/shard'
import { RpcErrorCode, toJsonRpcError } from '@cairn/rpc'
import { CairnError, type Logger } from '@cairn/utils'
import { Counter, Histogram, type Registry } from 'prom-client'
import { type Hex, parseTransaction, recoverTransactionAddress } from 'viem'
import { crossShardTransaction } from './cross-shard-status.ts'
import { GatewayErrorCode } from './errors.ts'
import { type Route, routeOf } from './routes.ts'
import { shardInfo } from './shard-info.ts'

export interface GatewayShard {
  id: number
  url: string
}

export interface GatewayOptions {
  shards: GatewayShard[]
  host: string
  port: number
  /** Largest request body (bytes); default 5 MiB, as the node's. */
  maxRequestBytes?: number
  /** How long a shard may take to answer (ms); default 30 s. */
  timeoutMs?: number
  /** Most requests in one batch; default 1,000. */
  maxBatch?: number
}

export interface GatewayModules {
  logger: Logger
  metrics?: Registry | null
  fetch?: typeof fetch
}

interface JsonRpcRequest {
  jsonrpc: '2.0'
  id: unknown
  method: string
  params?: unknown
}

type Answer = {
  jsonrpc: '2.0'
  id: unknown
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

/** A request the gateway cannot route as sent: invalid params (-32602), saying what to send instead. */
function refuse(message: string, data?: unknown): CairnError {
  return new CairnError(RpcErrorCode.INVALID_PARAMS, message, {
    fault: 'caller',
    meta: data === undefined ? undefined : { data },
  })
}

export class Gateway {
  readonly #opts: GatewayOptions
  readonly #m: GatewayModules
  readonly #fetch: typeof fetch
  readonly #requests: Counter<'shard'> | null
  readonly #latency: Histogram<'shard'> | null
  #chainIds: bigint[] = []
  #server: Server | undefined

  constructor(opts: GatewayOptions, modules: GatewayModules) {
    const ids = opts.shards.map((s) => s.id).sort((a, b) => a - b)
    if (ids.length === 0 || ids.some((id, i) => id !== i)) {
      throw new CairnError(
        GatewayErrorCode.INVALID_SHARDS,
        `the gateway's shards must be numbered 0..n−1 without gaps (got ${ids.join(', ') || 'none'})`,
        {
          fault: 'caller',
        },
      )
    }
    this.#opts = { ...opts, shards: [...opts.shards].sort((a, b) => a.id - b.id) }
    this.#m = modules
    this.#fetch = modules.fetch ?? fetch
    const registers = modules.metrics ? [modules.metrics] : []
    this.#requests = modules.metrics
      ? new Counter({
          name: 'cairn_gateway_requests_total',
          help: 'JSON-RPC requests by where they went (a shard, the gateway itself, refused)',
          labelNames: ['shard'],
          registers,
        })
      : null
    this.#latency = modules.metrics
      ? new Histogram({
          name: 'cairn_gateway_forward_seconds',
          help: 'Time a shard took to answer a forwarded request',
          labelNames: ['shard'],
          registers,
        })
      : null
    for (const s of this.#opts.shards) {
      this.#requests?.inc({ shard: String(s.id) }, 0)
      this.#latency?.zero({ shard: String(s.id) })
    }
    this.#requests?.inc({ shard: 'gateway' }, 0)
    this.#requests?.inc({ shard: 'refused' }, 0)
  }

  get shardCount(): number {
    return this.#opts.shards.length
  }

  /** Reads each shard's chain id (they must all answer), then listens. */
  async start(): Promise<string> {
    this.#chainIds = await Promise.all(
      this.#opts.shards.map(async (s) => {
        const a = await this.#call(s.id, { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }).catch(
          (err: Error) => {
            throw new CairnError(
              GatewayErrorCode.INVALID_SHARDS,
              `shard ${s.id} at ${s.url} does not answer eth_chainId: ${err.message}`,
              { fault: 'transient' },
            )
          },
        )
        if (typeof a.result !== 'string')
          throw new CairnError(GatewayErrorCode.INVALID_SHARDS, `shard ${s.id} at ${s.url}: no chain id`, {
            fault: 'transient',
          })
        return BigInt(a.result)
      }),
    )
    const dup = this.#chainIds.find((c, i) => this.#chainIds.indexOf(c) !== i)
    if (dup !== undefined) {
      throw new CairnError(
        GatewayErrorCode.INVALID_SHARDS,
        `two shards share chain id ${dup}: each shard has its own`,
        { fault: 'caller' },
      )
    }
    const server = createServer((req, res) => void this.#serve(req, res))
    server.requestTimeout = (this.#opts.timeoutMs ?? 30_000) + 5_000
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#opts.port, this.#opts.host, () => resolve())
    })
    const { port } = server.address() as AddressInfo
    const url = `http://${this.#opts.host}:${port}`
    this.#m.logger.info(
      { url, shards: this.#opts.shards.length, chainIds: this.#chainIds.map(String) },
      'gateway listening',
    )
    return url
  }

  async stop(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    server.closeIdleConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
      res.writeHead(status, { 'content-type': 'application/json' }).end(text)
    }
    const path = (req.url ?? '/').split('?')[0] as string
    if (req.method === 'GET' && path === '/metrics' && this.#m.metrics) {
      res.writeHead(200, { 'content-type': this.#m.metrics.contentType }).end(await this.#m.metrics.metrics())
      return
    }
    if (req.method === 'GET' && path === '/health') {
      send(200, { status: 'ok', shards: this.#opts.shards.length })
      return
    }
    if (req.method !== 'POST') {
      send(405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'JSON-RPC takes POST' } })
      return
    }
    const body = await this.#read(req).catch(() => null)
    if (body === null) {
      send(413, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: `request body above ${this.#maxBytes()} bytes` },
      })
      return
    }
    const shardPath = /^\/shard\/(\d+)\/?$/.exec(path)
    if (shardPath) {
      const id = Number(shardPath[1])
      if (id >= this.#opts.shards.length) {
        send(404, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32601, message: `no shard ${id}: shards are 0..${this.#opts.shards.length - 1}` },
        })
        return
      }
      await this.#passThrough(id, body, res)
      return
    }
    if (path !== '/') {
      send(404, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32601, message: `no such endpoint ${path}: use / or /shard/<n>` },
      })
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      send(200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error: the body is not JSON' } })
      return
    }
    if (Array.isArray(parsed)) {
      const max = this.#opts.maxBatch ?? 1000
      if (parsed.length === 0 || parsed.length > max) {
        send(200, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `a batch holds 1..${max} requests` } })
        return
      }
      send(200, await Promise.all(parsed.map((r) => this.#answer(r))))
      return
    }
    send(200, await this.#answer(parsed))
  }

  #maxBytes(): number {
    return this.#opts.maxRequestBytes ?? 5 * 1024 * 1024
  }

  /** The request body, or null when it is above the limit (the request is then cut off). */
  async #read(req: IncomingMessage): Promise<Buffer | null> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > this.#maxBytes()) {
        req.destroy()
        return null
      }
      chunks.push(chunk as Buffer)
    }
    return Buffer.concat(chunks)
  }

  async #answer(raw: unknown): Promise<Answer> {
    const r = raw as Partial<JsonRpcRequest> | null
    const id = r !== null && typeof r === 'object' && 'id' in r ? r.id : null
    if (r === null || typeof r !== 'object' || r.jsonrpc !== '2.0' || typeof r.method !== 'string') {
      return {
        jsonrpc: '2.0',
        id,
        error: { code: -32600, message: 'invalid request: expected {"jsonrpc":"2.0","method":…}' },
      }
    }
    const request = { jsonrpc: '2.0' as const, id, method: r.method, params: r.params ?? [] }
    try {
      const route = routeOf(request.method, request.params)
      return await this.#route(route, request)
    } catch (err) {
      this.#requests?.inc({ shard: 'refused' })
      return { jsonrpc: '2.0', id, error: toJsonRpcError(err) }
    }
  }

  async #route(route: Route, request: JsonRpcRequest): Promise<Answer> {
    switch (route.kind) {
      case 'refuse':
        throw refuse(route.message)
      case 'gateway':
        this.#requests?.inc({ shard: 'gateway' })
        return { jsonrpc: '2.0', id: request.id, result: await this.#own(request) }
      case 'coordinating':
        return this.#call(0, request)
      case 'address':
        return this.#call(homeShard(hexBytes(route.address), this.shardCount), request)
      case 'sender':
        return this.#call(await this.#senderShard(route.raw), request)
      case 'anyShard': {
        const answers = await Promise.all(this.#opts.shards.map((s) => this.#call(s.id, request).catch(() => null)))
        const found = answers.find(
          (a) => a !== null && a.error === undefined && a.result !== null && a.result !== undefined,
        )
        if (found) return found
        const failed = answers.find((a) => a?.error !== undefined)
        return failed ?? { jsonrpc: '2.0', id: request.id, result: null }
      }
    }
  }

  /** The shard of a raw transaction's sender, whose chain id must be that shard's. */
  async #senderShard(raw: string): Promise<number> {
    let sender: string
    let chainId: number | undefined
    try {
      chainId = parseTransaction(raw as Hex).chainId
      sender = await recoverTransactionAddress({ serializedTransaction: raw as never })
    } catch (err) {
      throw refuse(`the raw transaction does not decode or recover a sender: ${(err as Error).message.split('\n')[0]}`)
    }
    const shard = homeShard(hexBytes(sender), this.shardCount)
    const want = this.#chainIds[shard] as bigint
    if (chainId === undefined || BigInt(chainId) !== want) {
      throw refuse(
        `the sender ${sender} lives on shard ${shard}, whose chain id is ${want}: sign the transaction for chain id ${want} (it names ${chainId ?? 'none'})`,
        { code: 'CONSENSUS_SHARD_WRONG_SHARD', homeShard: shard, chainId: `0x${want.toString(16)}` },
      )
    }
    return shard
  }

  async #own(request: JsonRpcRequest): Promise<unknown> {
    const p = Array.isArray(request.params) ? request.params : []
    if (request.method === 'cairn_shardOf') {
      if (typeof p[0] !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(p[0])) throw refuse('cairn_shardOf takes an address')
      const shard = homeShard(hexBytes(p[0]), this.shardCount)
      return { shard, chainId: `0x${(this.#chainIds[shard] as bigint).toString(16)}` }
    }
    const ask = (id: number, method: string, params: unknown[]) =>
      this.#call(id, { jsonrpc: '2.0', id: 1, method, params })
    if (request.method === 'cairn_getCrossShardTransaction') {
      if (typeof p[0] !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(p[0])) {
        throw refuse('cairn_getCrossShardTransaction takes a message hash or the hash of the transaction that sent it')
      }
      return crossShardTransaction(ask, this.shardCount, p[0] as Hex)
    }
    return shardInfo(this.#opts.shards, this.#chainIds, (id, method, params) =>
      this.#call(id, { jsonrpc: '2.0', id: 1, method, params }),
    )
  }

  async #call(shard: number, request: JsonRpcRequest): Promise<Answer> {
    const s = this.#opts.shards[shard] as GatewayShard
    this.#requests?.inc({ shard: String(shard) })
    const end = this.#latency?.startTimer({ shard: String(shard) })
    try {
      const res = await this.#fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 30_000),
      })
      const answer = (await res.json()) as Answer
      return { ...answer, id: request.id }
    } catch (err) {
      this.#m.logger.warn({ shard, method: request.method, err: (err as Error).message }, 'shard did not answer')
      throw new CairnError(GatewayErrorCode.SHARD_UNAVAILABLE, `shard ${shard} did not answer: try again`, {
        fault: 'transient',
      })
    } finally {
      end?.()
    }
  }

  async #passThrough(shard: number, body: Buffer, res: ServerResponse): Promise<void> {
    const s = this.#opts.shards[shard] as GatewayShard
    this.#requests?.inc({ shard: String(shard) })
    const end = this.#latency?.startTimer({ shard: String(shard) })
    try {
      const answer = await this.#fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 30_000),
      })
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
      res.end(Buffer.from(await answer.arrayBuffer()))
    } catch {
      res.writeHead(502, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: -32603, message: `shard ${shard} did not answer: try again` },
        }),
      )
    } finally {
      end?.()
    }
  }
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
