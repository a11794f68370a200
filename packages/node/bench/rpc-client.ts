import { Agent, request } from 'node:http'

/** One JSON-RPC response as the bench reads it. */
export interface RpcResponse {
  id: number
  result?: unknown
  error?: { code: number; message: string }
}

/**
 * A minimal JSON-RPC client over keep-alive HTTP (node:http, no dependencies): at most
 * `connections` sockets, so N concurrent callers use N connections, as autocannon does.
 */
export class RpcClient {
  private readonly agent: Agent
  private readonly url: URL
  private nextId = 0

  constructor(url: string, connections = 16) {
    this.url = new URL(url)
    this.agent = new Agent({ keepAlive: true, maxSockets: connections })
  }

  /** Posts a raw body, resolves with the raw response text. */
  post(body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`))
            else resolve(text)
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  /** Calls one method; throws on a JSON-RPC error. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const text = await this.post(JSON.stringify({ jsonrpc: '2.0', id: ++this.nextId, method, params }))
    const res = JSON.parse(text) as RpcResponse
    if (res.error) throw new Error(`${method}: ${res.error.message}`)
    return res.result as T
  }

  /** Sends one batch; returns the responses in request order. */
  async batch(calls: [string, unknown[]][]): Promise<RpcResponse[]> {
    const first = this.nextId + 1
    const body = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: ++this.nextId, method, params }))
    const res = JSON.parse(await this.post(JSON.stringify(body))) as RpcResponse[]
    return res.sort((a, b) => a.id - b.id).map((r) => ({ ...r, id: r.id - first }))
  }

  close(): void {
    this.agent.destroy()
  }
}
