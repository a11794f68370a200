import { RpcClient } from './rpc-client.ts'

export interface ReadResult {
  requests: number
  errors: number
  seconds: number
  perSecond: number
}

/**
 * Calls one method from `connections` concurrent loops (one keep-alive connection each) for
 * `seconds`, as autocannon would, and counts successful responses per second.
 */
export async function runReads(
  url: string,
  method: string,
  params: unknown[],
  opts: { connections: number; seconds: number },
): Promise<ReadResult> {
  const client = new RpcClient(url, opts.connections)
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  let requests = 0
  let errors = 0
  const t0 = performance.now()
  const end = t0 + opts.seconds * 1000
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const text = await client.post(body)
        if (text.includes('"error"')) errors++
        else requests++
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: opts.connections }, loop))
  const seconds = (performance.now() - t0) / 1000
  client.close()
  return { requests, errors, seconds, perSecond: Math.round(requests / seconds) }
}
