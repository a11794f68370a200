// Reads balances from an EVM chain over JSON-RPC (Cairn or any other): the chain id (checked
// against the declared one, so a wrong URL is caught rather than read), the block number once per
// run, then every balance at that block — a run sees one consistent state per chain. Any failure
// (no answer within the timeout, an HTTP error, a JSON-RPC error, a malformed result) is a
// RESERVES_RECONCILIATION_READ_FAILED naming the method and the endpoint's origin, never a zero.

import { ReservesErrorCode } from '@cairn/reserves'
import { activeTraceContext, setTraceHeaders } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'

/** The JSON-RPC methods a run calls (the RPC error counter's `method` label). */
export const RPC_METHODS = ['eth_chainId', 'eth_blockNumber', 'eth_getBalance', 'eth_call'] as const
export type RpcMethod = (typeof RPC_METHODS)[number]

/** `balanceOf(address)`'s selector. */
const BALANCE_OF = '0x70a08231'

/** Where a URL points, without its path, query or credentials (API keys live there). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return '(invalid URL)'
  }
}

export const readFailed = (method: string, url: string, why: string, cause?: unknown) =>
  new CairnError(ReservesErrorCode.RECONCILIATION_READ_FAILED, `${method} at ${originOf(url)}: ${why}`, {
    fault: 'transient',
    ...(cause ? { cause } : {}),
    hint: 'check the source’s RPC URL and that the node is synced; the run failed and no ratio was recorded',
    meta: { method },
  })

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/i
const DATA_WORD = /^0x[0-9a-f]{64}$/i

export interface AssetChainClientOptions {
  /** Longest wait for one answer, ms. */
  timeoutMs: number
}

/** One chain's JSON-RPC endpoint, read for the custodian's assets (balances, token balances); not `@cairn/chain`'s ChainReader. */
export class AssetChainClient {
  private nextId = 1

  constructor(
    readonly url: string,
    private readonly opts: AssetChainClientOptions,
    /** Called with the method of every failed call (the metrics). */
    private readonly onError: (method: RpcMethod) => void = () => {},
  ) {}

  async chainId(): Promise<bigint> {
    return this.quantity('eth_chainId', [])
  }

  async blockNumber(): Promise<bigint> {
    return this.quantity('eth_blockNumber', [])
  }

  /** The native balance of `address` at `block`, in wei. */
  async balance(address: string, block: bigint): Promise<bigint> {
    return this.quantity('eth_getBalance', [address, `0x${block.toString(16)}`])
  }

  /** ERC-20 `balanceOf(holder)` of `token` at `block`, in the token's smallest unit. */
  async tokenBalance(token: string, holder: string, block: bigint): Promise<bigint> {
    const data = `${BALANCE_OF}${holder.slice(2).toLowerCase().padStart(64, '0')}`
    const r = await this.call<unknown>('eth_call', [{ to: token, data }, `0x${block.toString(16)}`])
    if (typeof r !== 'string' || !DATA_WORD.test(r)) {
      this.onError('eth_call')
      throw readFailed(
        'eth_call',
        this.url,
        `balanceOf(${holder}) on ${token} answered ${JSON.stringify(r).slice(0, 80)}, not one 32-byte word (is it an ERC-20 contract?)`,
      )
    }
    return BigInt(r)
  }

  private async quantity(method: RpcMethod, params: unknown[]): Promise<bigint> {
    const r = await this.call<unknown>(method, params)
    if (typeof r !== 'string' || !QUANTITY.test(r)) {
      this.onError(method)
      throw readFailed(method, this.url, `answered ${JSON.stringify(r).slice(0, 80)}, not a hex quantity`)
    }
    return BigInt(r)
  }

  private async call<T>(method: RpcMethod, params: unknown[]): Promise<T> {
    let body: { result?: T; error?: { code?: number; message?: string } }
    let status = 200
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        // the active span's W3C trace context: the node's span of this call joins the trace
        headers: traceHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        redirect: 'error',
      })
      status = res.status
      if (!res.ok) await res.body?.cancel().catch(() => {})
      body = res.ok ? ((await res.json()) as typeof body) : {}
    } catch (err) {
      this.onError(method)
      const e = err as { name?: string; message?: string; cause?: { code?: string } }
      const why =
        e?.name === 'TimeoutError'
          ? `no answer within ${this.opts.timeoutMs} ms`
          : `${e?.message ?? String(err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`
      throw readFailed(method, this.url, why, err)
    }
    if (status !== 200) {
      this.onError(method)
      throw readFailed(method, this.url, `HTTP ${status}`)
    }
    if (body?.error || !body || !('result' in body)) {
      this.onError(method)
      const why = body?.error ? `error ${body.error.code ?? '?'}: ${body.error.message ?? ''}` : 'no result'
      throw readFailed(method, this.url, why)
    }
    return body.result as T
  }
}

/** `base` and the active span's W3C trace context (`traceparent`, `tracestate`) when one is active. */
function traceHeaders(base: Record<string, string>): Record<string, string> {
  const headers = { ...base }
  setTraceHeaders(
    {
      set: (name, value) => {
        headers[name] = value
      },
    },
    activeTraceContext(),
  )
  return headers
}
