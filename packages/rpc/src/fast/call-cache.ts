import { bytesToHex, type Hex } from '@cairn/utils'
import type { EVMResult } from '@ethereumjs/evm'
import type { RpcContext } from '../context.ts'
import type { CallRequest } from '../schemas.ts'

/** What a call came to: its output and, when it failed, the EVM's error ('revert', 'out of gas', …). */
export interface CallOutcome {
  output: Hex
  error: string | undefined
}

export function outcomeOf(res: EVMResult): CallOutcome {
  return { output: bytesToHex(res.execResult.returnValue), error: res.execResult.exceptionError?.error }
}

/** Calls whose key is longer than this (large calldata) are run, not remembered. */
const MAX_KEY_CHARS = 8192
/** Outputs longer than this (hex characters) are not remembered. */
const MAX_OUTPUT_CHARS = 16_384
/** Characters of keys and outputs kept at most (strings of one-byte characters: about as many bytes). */
const MAX_CHARS = 16 * 1024 * 1024

/** How a call was answered, for `cairn_rpc_call_cache_requests_total{result}`. */
export type CallCacheResult = 'hit' | 'miss' | 'joined' | 'bypass'

/**
 * Outcomes of `eth_call` by block and request. A call without overrides is a pure function of the
 * block it runs on top of (its hash commits to the state root and to every header field the EVM
 * reads) and of the request, so the same request at the same block has the same outcome: dapps
 * polling a view function from many clients, every new block, ask exactly that. A block's state
 * never changes under its hash, except on a dev chain whose head is edited without a block
 * (anvil_setBalance and kin): the key is then the hash and the edited state root (`stateKey` in
 * call-vms.ts), so nothing is ever invalidated; outcomes of older states age out of the LRU.
 *
 * Identical calls in flight at once share one execution. Only outcomes of a finished execution
 * are kept (success, revert, out of gas, …); an error thrown around it (the time limit, funds
 * for the gas price) is not, and reaches just the callers that were waiting for that execution.
 */
export class CallResultCache {
  /** Remembered outcomes, least recently used first. */
  private readonly done = new Map<string, CallOutcome>()
  private chars = 0
  private readonly running = new Map<string, Promise<CallOutcome>>()

  constructor(
    private readonly opts: { entries: number; maxChars?: number },
    private readonly modules: { count?: (result: CallCacheResult) => void } = {},
  ) {}

  /** The key of `req` on the state `state` names (`stateKey`), or undefined when it is not to be remembered. */
  keyOf(state: Hex, req: CallRequest, gasLimit: bigint): string | undefined {
    if (this.opts.entries <= 0) return undefined
    const key = `${state} ${gasLimit} ${JSON.stringify(req, bigintsAsText)}`
    return key.length > MAX_KEY_CHARS ? undefined : key
  }

  /** The outcome for `key`: remembered, shared with an identical call in flight, or `run` now. */
  async outcome(key: string | undefined, run: () => Promise<CallOutcome>): Promise<CallOutcome> {
    if (key === undefined) {
      this.modules.count?.('bypass')
      return run()
    }
    const known = this.done.get(key)
    if (known) {
      this.done.delete(key)
      this.done.set(key, known)
      this.modules.count?.('hit')
      return known
    }
    const inFlight = this.running.get(key)
    if (inFlight) {
      this.modules.count?.('joined')
      return inFlight
    }
    this.modules.count?.('miss')
    const p = run()
    this.running.set(key, p)
    try {
      const out = await p
      if (out.output.length <= MAX_OUTPUT_CHARS) this.remember(key, out)
      return out
    } finally {
      this.running.delete(key)
    }
  }

  /** Keeps `out`, then drops the least recently used outcomes past the entry and size bounds. */
  private remember(key: string, out: CallOutcome): void {
    this.done.set(key, out)
    this.chars += key.length + out.output.length
    const maxChars = this.opts.maxChars ?? MAX_CHARS
    while (this.done.size > this.opts.entries || this.chars > maxChars) {
      const [oldKey, old] = this.done.entries().next().value as [string, CallOutcome]
      this.done.delete(oldKey)
      this.chars -= oldKey.length + old.output.length
    }
  }

  /** Outcomes remembered now, and the characters of their keys and outputs (for tests). */
  get size(): { entries: number; chars: number } {
    return { entries: this.done.size, chars: this.chars }
  }
}

function bigintsAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value
}

const caches = new WeakMap<RpcContext, CallResultCache>()

/** The call cache of a context (one per RPC context, made on first use, sized by `limits.callCacheEntries`). */
export function callResults(ctx: RpcContext): CallResultCache {
  let cache = caches.get(ctx)
  if (!cache) {
    const counter = ctx.metrics?.callCache
    // Children bound once: a labelled inc() hashes its labels on every call.
    const bound = counter && {
      hit: counter.labels('hit'),
      miss: counter.labels('miss'),
      joined: counter.labels('joined'),
      bypass: counter.labels('bypass'),
    }
    cache = new CallResultCache(
      { entries: ctx.limits.callCacheEntries },
      bound ? { count: (result) => bound[result].inc() } : {},
    )
    caches.set(ctx, cache)
  }
  return cache
}
