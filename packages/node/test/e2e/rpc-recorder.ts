// A tiny logging JSON-RPC proxy. Clients talk to `recorder.urlFor('viem')` (any path is a label);
// every request (including each element of a batch) is recorded with its params and, for failures,
// the error object the node answered with. Lets the node team see exactly what viem and ethers send.
// Methods listed in `deny` are answered with -32601 (method not found) without reaching the node,
// to exercise the clients' fallbacks (e.g. viem's when eth_fillTransaction is missing).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  /** The client label, i.e. the URL path the client was given ('viem', 'ethers', ...). */
  client: string
  /** What the test was doing (see RpcRecorder.tag). */
  context: string
  method: string
  /** Absent when the request had no `params` member at all (viem sends none for eth_chainId, eth_blockNumber...). */
  params?: unknown
  /** True when the call arrived inside a JSON-RPC batch (array) request. */
  batched: boolean
  /** The JSON-RPC error the node answered with, if any. */
  error?: unknown
  /** True when the recorder answered -32601 itself (method in `deny`). */
  denied?: boolean
}

export interface MethodSummary {
  method: string
  count: number
  batched: boolean
  /** Params of the first call, as an example. */
  exampleParams?: unknown
  /** Distinct error objects the node answered with. */
  errors: unknown[]
}

export interface RpcRecorder {
  urlFor(client: string): string
  /** Points the proxy at another node URL (e.g. after a restart on a new port). */
  retarget(url: string): void
  /** Labels the calls made from now on (e.g. with the current test's name). */
  tag(context: string): void
  readonly calls: readonly RecordedCall[]
  /** Per client, the methods in order of first use. */
  summary(): Record<string, MethodSummary[]>
  close(): Promise<void>
}

interface JsonRpcRequest {
  jsonrpc?: string
  id?: unknown
  method: string
  params?: unknown
}

interface JsonRpcResponse {
  id?: unknown
  error?: unknown
}

export async function startRpcRecorder(targetUrl: string, opts: { deny?: string[] } = {}): Promise<RpcRecorder> {
  let target = targetUrl
  let context = ''
  const deny = new Set(opts.deny ?? [])
  const calls: RecordedCall[] = []

  const server: Server = createServer(async (req, res) => {
    const client = (req.url ?? '/').replace(/^\/+/, '') || 'unlabelled'
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')

    const recorded = record(client, body)
    try {
      const { forward, denied } = splitDenied(body)
      let text: string
      let status = 200
      let contentType = 'application/json'
      if (forward === undefined) {
        text = JSON.stringify(denied.length === 1 && !body.trimStart().startsWith('[') ? denied[0] : denied)
      } else {
        const upstream = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: forward,
        })
        text = await upstream.text()
        status = upstream.status
        contentType = upstream.headers.get('content-type') ?? contentType
        if (denied.length > 0) text = JSON.stringify([...(JSON.parse(text) as unknown[]), ...denied])
      }
      attachErrors(recorded, text)
      res.writeHead(status, { 'content-type': contentType })
      res.end(text)
    } catch (err) {
      // The node is down (e.g. mid-restart): answer like an unreachable server would.
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`rpc-recorder: upstream ${target} unreachable: ${String(err)}`)
    }
  })

  function record(client: string, body: string): Map<unknown, RecordedCall> {
    const byId = new Map<unknown, RecordedCall>()
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      calls.push({ client, context, method: '<unparseable>', params: body, batched: false })
      return byId
    }
    const batched = Array.isArray(parsed)
    for (const request of (batched ? parsed : [parsed]) as JsonRpcRequest[]) {
      const call: RecordedCall = { client, context, method: request.method, batched }
      if ('params' in request) call.params = request.params
      if (deny.has(request.method)) call.denied = true
      calls.push(call)
      byId.set(request.id, call)
    }
    return byId
  }

  /** The body to forward without the denied requests (undefined if none is left), and their answers. */
  function splitDenied(body: string): { forward: string | undefined; denied: unknown[] } {
    if (deny.size === 0) return { forward: body, denied: [] }
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return { forward: body, denied: [] }
    }
    const requests = (Array.isArray(parsed) ? parsed : [parsed]) as JsonRpcRequest[]
    const kept = requests.filter((r) => !deny.has(r.method))
    const denied = requests
      .filter((r) => deny.has(r.method))
      .map((r) => ({
        jsonrpc: '2.0',
        id: r.id ?? null,
        error: { code: -32601, message: `the method ${r.method} does not exist/is not available` },
      }))
    if (kept.length === 0) return { forward: undefined, denied }
    if (denied.length === 0) return { forward: body, denied }
    return { forward: JSON.stringify(kept), denied }
  }

  function attachErrors(byId: Map<unknown, RecordedCall>, text: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return
    }
    for (const response of (Array.isArray(parsed) ? parsed : [parsed]) as JsonRpcResponse[]) {
      const call = byId.get(response.id)
      if (call && response.error !== undefined) call.error = response.error
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    urlFor: (client) => `http://127.0.0.1:${port}/${client}`,
    retarget: (url) => {
      target = url
    },
    tag: (label) => {
      context = label
    },
    calls,
    summary: () => summarize(calls),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function summarize(calls: readonly RecordedCall[]): Record<string, MethodSummary[]> {
  const out: Record<string, MethodSummary[]> = {}
  for (const call of calls) {
    out[call.client] ??= []
    const methods = out[call.client] ?? []
    let entry = methods.find((m) => m.method === call.method)
    if (!entry) {
      entry = { method: call.method, count: 0, batched: false, errors: [] }
      if ('params' in call) entry.exampleParams = call.params
      methods.push(entry)
    }
    entry.count++
    entry.batched ||= call.batched
    if (call.error !== undefined) {
      const seen = entry.errors.map((e) => JSON.stringify(e))
      if (!seen.includes(JSON.stringify(call.error))) entry.errors.push(call.error)
    }
  }
  return out
}
