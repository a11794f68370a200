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
 *
 * An outcome is kept once its request has shown it repeats (W-TinyLFU's window and doorkeeper):
 * asked again while it ran, or while it is among the last {@link WINDOW} outcomes, or executed
 * before (a set of key hashes; the key itself is not kept). A call asked once — distinct
 * arguments, as a quote or a balance over many holders asks — only passes through the window:
 * kept, each such outcome lived through ~4,096 later calls, was promoted to V8's old generation
 * and collected there (the cache cost a distinct call 51–53 → 64–68 µs of CPU in process).
 */
export class CallResultCache {
  /** Remembered outcomes, least recently used first. */
  private readonly done = new Map<string, CallOutcome>()
  private chars = 0
  private readonly running = new Map<string, Flight>()
  /** The latest outcomes not kept (yet), oldest first: asked again in time, they are kept. */
  private readonly recent = new Map<string, CallOutcome>()
  /** Hashes of the keys executed once and not kept (see the class comment); cleared when full. */
  private readonly seen = new Set<number>()

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
    const recent = this.recent.get(key)
    if (recent) {
      this.recent.delete(key)
      this.remember(key, recent)
      this.modules.count?.('hit')
      return recent
    }
    const inFlight = this.running.get(key)
    if (inFlight) {
      this.modules.count?.('joined')
      inFlight.joined = true
      return inFlight.outcome
    }
    this.modules.count?.('miss')
    const flight: Flight = { outcome: run(), joined: false }
    this.running.set(key, flight)
    try {
      const out = await flight.outcome
      if (out.output.length <= MAX_OUTPUT_CHARS) {
        if (this.repeats(key, flight.joined)) this.remember(key, out)
        else {
          this.recent.set(key, out)
          if (this.recent.size > WINDOW) this.recent.delete(this.recent.keys().next().value as string)
        }
      }
      return out
    } finally {
      this.running.delete(key)
    }
  }

  /** Whether `key`'s outcome is worth keeping: joined while it ran, or executed before (then forgotten as seen). */
  private repeats(key: string, joined: boolean): boolean {
    const h = hashOf(key)
    if (joined || this.seen.delete(h)) return true
    if (this.seen.size >= this.opts.entries * SEEN_PER_ENTRY) this.seen.clear()
    this.seen.add(h)
    return false
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

/** An execution in flight: its outcome, and whether another caller asked for it meanwhile. */
interface Flight {
  outcome: Promise<CallOutcome>
  joined: boolean
}

/** Outcomes asked once kept for a second ask (young: they die before V8 would promote them). */
const WINDOW = 32
/** Key hashes the doorkeeper holds per entry kept (then it starts over). */
const SEEN_PER_ENTRY = 4

/** FNV-1a of the key's characters, 30 bits (a small integer: no heap number in the set). A collision only keeps an outcome early. */
function hashOf(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h & 0x3fffffff
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
