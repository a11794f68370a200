import { outboundMetrics, resilientCall } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import {
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { ReservesErrorCode } from '../errors.ts'

/** How calls to the chain's JSON-RPC are made. */
export interface ChainClientOptions {
  url: string
  /** Each attempt gives up after this long. */
  timeoutMs: number
}

export const DEFAULT_CHAIN_TIMEOUT_MS = 15_000

/**
 * A viem HTTP transport whose every request goes through service-kit's resilience (timeout,
 * retry with backoff for reads, circuit breaker; `cairn_outbound_calls_total{target="chain-rpc"}`).
 * `eth_sendRawTransaction` is never retried: a send that timed out may have reached the node.
 */
export function chainTransport(
  opts: ChainClientOptions,
  modules: { logger: Logger; metrics: Registry | null },
): Transport {
  const metrics = modules.metrics ? outboundMetrics(modules.metrics) : null
  const breaker = { threshold: 5, halfOpenAfterMs: 10_000 }
  const reads = resilientCall(
    {
      name: 'chain-rpc',
      timeoutMs: opts.timeoutMs,
      retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 2_000 },
      breaker,
    },
    { logger: modules.logger, metrics },
  )
  const sends = resilientCall(
    { name: 'chain-rpc-send', timeoutMs: opts.timeoutMs },
    { logger: modules.logger, metrics },
  )
  return http(opts.url, {
    retryCount: 0, // retries are the resilience layer's
    timeout: opts.timeoutMs * 4,
    fetchFn: (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : ''
      const policy = body.includes('"eth_sendRawTransaction"') ? sends : reads
      // The body is read inside the attempt: the policy aborts its signal once the attempt ends.
      return policy.execute(async (signal) => {
        const res = await fetch(input, {
          ...init,
          signal: init?.signal ? AbortSignal.any([signal, init.signal]) : signal,
        })
        const bytes = await res.arrayBuffer()
        return new Response(bytes, { status: res.status, statusText: res.statusText, headers: res.headers })
      })
    },
  })
}

/** A read client and, given an account, a signing client for the chain at `opts.url`. */
export interface ChainClients {
  chain: Chain
  public: PublicClient
  wallet: WalletClient<Transport, Chain, LocalAccount> | null
}

/** Connects to the chain (reads its chain id) and returns viem clients over {@link chainTransport}. */
export async function connectChain(
  opts: ChainClientOptions,
  account: LocalAccount | null,
  modules: { logger: Logger; metrics: Registry | null },
): Promise<ChainClients> {
  const transport = chainTransport(opts, modules)
  const probe = createPublicClient({ transport })
  let id: number
  try {
    id = await probe.getChainId()
  } catch (err) {
    throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `cannot reach the chain at ${opts.url}`, {
      fault: 'transient',
      cause: err,
      hint: 'check --rpc and that the node is running',
    })
  }
  const chain = defineChain({
    id,
    name: `chain ${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [opts.url] } },
  })
  const pub = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient
  const wallet = account ? createWalletClient({ chain, transport, account, pollingInterval: 250 }) : null
  return { chain, public: pub, wallet }
}
