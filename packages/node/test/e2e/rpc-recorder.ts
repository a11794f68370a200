// A tiny logging JSON-RPC proxy. Clients talk to `recorder.urlFor('viem')` (any path is a label);
// every request (including each element of a batch) is recorded with its params and, for failures,
// the error object the node answered with. Lets the node team see exactly what viem and ethers send.
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  /** The client label, i.e. the URL path the client was given ('viem', 'ethers', ...). */
  client: string
  method: string
  params: unknown
  /** True when the call arrived inside a JSON-RPC batch (array) request. */
  batched: boolean
  /** The JSON-RPC error the node answered with, if any. */
  error?: unknown
}

export interface MethodSummary {
  method: string
  count: number
  batched: boolean
  /** Params of the first call, as an example. */
  exampleParams: unknown
  /** Distinct error objects the node answered with. */
  errors: unknown[]
}

export interface RpcRecorder {
  urlFor(client: string): string
  /** Points the proxy at another node URL (e.g. after a restart on a new port). */
  retarget(url: string): void
  readonly calls: readonly RecordedCall[]
  /** Per client, the methods in order of first use. */
  summary(): Record<string, MethodSummary[]>
  close(): Promise<void>
}

interface JsonRpcRequest {
  id?: unknown
  method: string
  params?: unknown
}

interface JsonRpcResponse {
  id?: unknown
  error?: unknown
}

export async function startRpcRecorder(targetUrl: string): Promise<RpcRecorder> {
  let target = targetUrl
  const calls: RecordedCall[] = []

  const server: Server = createServer(async (req, res) => {
    const client = (req.url ?? '/').replace(/^\/+/, '') || 'unlabelled'
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')

    const recorded = record(client, body)
    try {
      const upstream = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      const text = await upstream.text()
      attachErrors(recorded, text)
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
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
      calls.push({ client, method: '<unparseable>', params: body, batched: false })
      return byId
    }
    const batched = Array.isArray(parsed)
    for (const request of (batched ? parsed : [parsed]) as JsonRpcRequest[]) {
      const call: RecordedCall = { client, method: request.method, params: request.params, batched }
      calls.push(call)
      byId.set(request.id, call)
    }
    return byId
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
    const methods = (out[call.client] ??= [])
    let entry = methods.find((m) => m.method === call.method)
    if (!entry) {
      entry = { method: call.method, count: 0, batched: false, exampleParams: call.params, errors: [] }
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
