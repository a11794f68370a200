// Raw-socket helpers for the fast lane's tests: an RpcServer whose dispatcher echoes what reached it,
// a client that writes bytes in given pieces and keeps everything the server sends back, and a reader
// of that byte stream as HTTP/1.1 responses.
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HealthChecks } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import {
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  DEFAULT_RPC_SERVER_OPTIONS,
  type RpcContext,
  type RpcDispatcher,
  RpcServer,
  type RpcServerOptions,
  UNPARSEABLE,
} from '../../src/index.ts'

export interface EchoServer {
  server: RpcServer
  port: number
  registry: Registry
  /** Destroys every connection the server still has, then closes it (a socket Node stopped reading would hold close() for ever). */
  close(): Promise<void>
  /** The fast lane's counters now: requests it answered, connections it handed to Node. */
  lane(): Promise<{ answered: number; handedOver: number }>
}

/**
 * An RpcServer whose dispatcher echoes each call's method and id (the answer shows what reached it);
 * `health` behind `/ready` (none: always ready).
 */
export async function echoServer(
  opts: Partial<RpcServerOptions>,
  bodyLimit = 4096,
  health: Pick<HealthChecks, 'run'> | null = null,
): Promise<EchoServer> {
  const registry = new Registry()
  const one = (e: unknown) => {
    const { id, method } = (e ?? {}) as { id?: unknown; method?: unknown }
    return { jsonrpc: '2.0', id: id ?? null, result: `echo:${String(method)}` }
  }
  const answer = (value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !('id' in value)) return undefined
    return JSON.stringify(Array.isArray(value) ? value.map(one) : one(value))
  }
  // Answers now, as the node's dispatcher answers a read it has at hand, except the slow method
  // (a promise: the lane holds what arrives meanwhile) and the failing ones (a bug in a dispatcher).
  const dispatcher = {
    handleParsed: (body: unknown) => {
      if (body === UNPARSEABLE)
        return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } })
      const value = (body as { value: unknown }).value
      const method = (value as { method?: unknown } | null)?.method
      if (method === 'test_slow') return sleep(100).then(() => answer(value))
      if (method === 'test_throw') throw new Error('a dispatcher that throws')
      if (method === 'test_reject') return Promise.reject(new Error('a dispatcher that rejects'))
      return answer(value)
    },
  } as unknown as RpcDispatcher
  const server = new RpcServer(
    { ...DEFAULT_RPC_SERVER_OPTIONS, host: '127.0.0.1', port: 0, ...opts },
    {
      dispatcher,
      ctx: { limits: { ...DEFAULT_RPC_LIMITS, bodyLimit } } as RpcContext,
      registry,
      metrics: createRpcMetrics(registry),
      logger: silentLogger,
      health,
      rateLimitStore: null,
    },
  )
  const sockets = new Set<Socket>()
  server.app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await server.listen()
  const close = async () => {
    for (const socket of sockets) socket.destroy()
    await server.close()
  }
  const lane = async () => {
    const page = await registry.metrics()
    const count = (outcome: string) =>
      Number(new RegExp(`fast_lane_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(page)?.[1] ?? 0)
    return { answered: count('answered'), handedOver: count('handed_over') }
  }
  return { server, port: server.port, registry, close, lane }
}

/** What one connection got back. */
export interface Heard {
  /** Every byte the server sent, in order. */
  bytes: Buffer
  /** How it ended: the server closed (FIN or reset), or it stayed open and quiet for `quietMs`. */
  end: 'closed' | 'quiet'
}

export interface TalkOptions {
  /** Pause between two pieces (ms; 0: the next event-loop turn), so that each is its own TCP segment. */
  gapMs?: number
  /** After the last piece: how long the server may stay silent before the exchange is over. */
  quietMs?: number
  /** Half-close after the last piece. */
  end?: boolean
}

/** Writes `pieces` on one new connection, one at a time, and keeps what the server sends until it closes or goes quiet. */
export function talk(port: number, pieces: readonly Buffer[], o: TalkOptions = {}): Promise<Heard> {
  const { gapMs = 0, quietMs = 150, end = false } = o
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    socket.setNoDelay(true)
    const got: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    let sent = false
    let settled = false
    const finish = (how: Heard['end']) => {
      if (settled) return
      settled = true
      clearTimeout(quiet)
      socket.destroy()
      resolve({ bytes: Buffer.concat(got), end: how })
    }
    const arm = () => {
      clearTimeout(quiet)
      if (sent) quiet = setTimeout(() => finish('quiet'), quietMs)
    }
    socket.on('data', (d) => {
      got.push(d)
      arm()
    })
    socket.on('end', () => finish('closed'))
    socket.on('close', () => finish('closed'))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish('closed')
      else if (!settled) reject(err)
    })
    socket.once('connect', async () => {
      for (const [i, piece] of pieces.entries()) {
        if (socket.destroyed) break
        if (i > 0) await (gapMs > 0 ? sleep(gapMs) : new Promise((r) => setImmediate(r)))
        if (socket.destroyed) break
        socket.write(piece)
      }
      if (end && !socket.destroyed) socket.end()
      sent = true
      arm()
    })
  })
}

/** One response read off the wire. */
export interface Response {
  status: number
  /** Header lines as sent (name lower-cased, value trimmed), in order. */
  headers: [string, string][]
  body: string
}

/** The responses in `bytes`, in order, and what is left after the last whole one (a response cut short, or not HTTP). */
export function responses(bytes: Buffer): { list: Response[]; rest: string } {
  const list: Response[] = []
  let at = 0
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1')
    if (end < 0) break
    const lines = bytes.toString('latin1', at, end).split('\r\n')
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '')
    if (!m) break
    const status = Number(m[1])
    const headers = lines.slice(1).map((l): [string, string] => {
      const i = l.indexOf(':')
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()]
    })
    const header = (name: string) => headers.find(([k]) => k === name)?.[1]
    let body = ''
    let next = end + 4
    if (status >= 200) {
      const length = header('content-length')
      if (length !== undefined) {
        next = end + 4 + Number(length)
        if (next > bytes.length) break
        body = bytes.toString('utf8', end + 4, next)
      } else if (header('transfer-encoding') === 'chunked') {
        // Node's own answers (400 to a request without Host).
        const chunks: Buffer[] = []
        for (;;) {
          const eol = bytes.indexOf('\r\n', next, 'latin1')
          if (eol < 0) return { list, rest: bytes.toString('latin1', at) }
          const size = Number.parseInt(bytes.toString('latin1', next, eol), 16)
          if (size === 0) {
            next = eol + 4
            break
          }
          chunks.push(bytes.subarray(eol + 2, eol + 2 + size))
          next = eol + 2 + size + 2
        }
        if (next > bytes.length) break
        body = Buffer.concat(chunks).toString('utf8')
      } else {
        // Neither: the body runs to the end of the connection.
        next = bytes.length
        body = bytes.toString('utf8', end + 4)
      }
    }
    list.push({ status, headers, body })
    at = next
  }
  return { list, rest: bytes.toString('latin1', at) }
}

/** A response without what differs by design between two servers or two runs: Date's value, a made-up request id. */
export function normal(r: Response): string {
  const headers = r.headers
    .filter(([k]) => k !== 'date')
    .map(([k, v]) => (k === 'x-request-id' && /^[0-9a-f-]{36}$/.test(v) ? `${k}: <uuid>` : `${k}: ${v}`))
    .sort()
  return `${r.status} ${JSON.stringify(headers)} ${r.body}`
}

/** A request as llhttp frames it (Node's own parser, as the server sets it up: strict, 16 KiB of head). */
export interface Framed {
  method: string
  url: string
  /** Header names and values, in order, as Node's parser gives them. */
  headers: string[]
  body: string
  upgrade: boolean
}

// Node's HTTP parser (llhttp) as the http module uses it: the reference for where requests end.
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: HttpParserClass
  methods: string[]
}
interface HttpParserClass {
  new (): HttpParser
  REQUEST: number
  kOnHeaders: number
  kOnHeadersComplete: number
  kOnBody: number
  kOnMessageComplete: number
}
interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void
  execute(data: Buffer): number | Error
  finish(): undefined | Error
  close(): void
  [callback: number]: unknown
}

/**
 * The requests llhttp reads whole from `stream`, in order, up to the first error, the first upgrade
 * or the end; and the error, if it stopped at one.
 */
export function llhttpFrames(stream: Buffer): { requests: Framed[]; error?: string } {
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0)
  const requests: Framed[] = []
  let headers: string[] = []
  let url = ''
  let current: (Framed & { parts: Buffer[] }) | undefined
  parser[HTTPParser.kOnHeaders] = (more: string[], moreUrl: string) => {
    headers.push(...more)
    url += moreUrl
  }
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    last: string[] | undefined,
    method: number,
    lastUrl: string | undefined,
    _status: number,
    _message: string,
    upgrade: boolean,
  ) => {
    current = {
      method: methods[method] ?? String(method),
      url: url + (lastUrl ?? ''),
      headers: [...headers, ...(last ?? [])],
      body: '',
      upgrade,
      parts: [],
    }
    headers = []
    url = ''
    return 0
  }
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    current?.parts.push(Buffer.from(chunk))
  }
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current === undefined) return
    const { parts, ...request } = current
    requests.push({ ...request, body: Buffer.concat(parts).toString('utf8') })
    current = undefined
  }
  const ret = parser.execute(stream)
  parser.close()
  if (ret instanceof Error) return { requests, error: (ret as Error & { code?: string }).code ?? ret.message }
  return { requests }
}
