import { RpcClient } from './rpc-client.ts'

export interface ReadResult {
  requests: number
  errors: number
  seconds: number
  perSecond: number
}

/**
 * Calls one method from `connections` concurrent loops (one keep-alive connection each) for
 * `seconds`, as autocannon would, and counts successful responses per second. `params` is the same
 * for every request, or made per request from its sequence number (every request different).
 */
export async function runReads(
  url: string,
  method: string,
  params: unknown[] | ((seq: number) => unknown[]),
  opts: { connections: number; seconds: number },
): Promise<ReadResult> {
  const client = new RpcClient(url, opts.connections)
  const fixed = typeof params === 'function' ? undefined : JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  let seq = 0
  const bodyOf = () =>
    fixed ?? JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: (params as (seq: number) => unknown[])(seq++) })
  let requests = 0
  let errors = 0
  const t0 = performance.now()
  const end = t0 + opts.seconds * 1000
  const loop = async () => {
    while (performance.now() < end) {
      try {
        const text = await client.post(bodyOf())
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
