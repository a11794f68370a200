import { CairnError, errorMessage } from '@cairn/utils'
import { ChainErrorCode } from '../errors.ts'

export interface ForkRpcOptions {
  /** The remote node's JSON-RPC URL (http or https). */
  url: string
  /** Attempts per request before its error is given up (default 5): network errors, HTTP 429/5xx, rate-limit answers. */
  attempts?: number
  /** First wait between attempts in ms, doubled each time (default 200). */
  backoffMs?: number
  /** Most HTTP requests in flight at once (default 8). */
  maxInFlight?: number
  /** Most HTTP requests started per second; 0 for no limit (the default). */
  requestsPerSecond?: number
  /** Longest wait for one HTTP answer, in ms (default 30,000). */
  timeoutMs?: number
  /** Most calls sent together as one JSON-RPC batch (default 50). */
  maxBatch?: number
}

export interface ForkRpcModules {
  /** Milliseconds; injectable for tests. */
  now?: () => number
  /** Waits `ms`; injectable for tests. */
  sleep?: (ms: number) => Promise<void>
  /** The HTTP client (the global `fetch` by default). */
  fetch?: typeof fetch
}

interface Pending {
  method: string
  params: unknown[]
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  attempt: number
}

/** JSON-RPC error codes and HTTP statuses a remote answers when asked too fast or when busy. */
const RATE_LIMITED_CODES = new Set([429, -32005, -32029])

/**
 * The fork's JSON-RPC client toward the remote node: calls made in the same turn go out as one
 * JSON-RPC batch (an account's proof and code together, the slots a call reads at once); at most
 * `maxInFlight` requests are open and `requestsPerSecond` start per second; network errors, HTTP
 * 429/5xx and rate-limit answers are retried with a doubling backoff. Any other JSON-RPC error is
 * the caller's answer (`CHAIN_FORK_REMOTE`, fault transient: the remote is not the caller).
 */
export class ForkRpcClient {
  private queue: Pending[] = []
  private flushScheduled = false
  private inFlight = 0
  private readonly waiting: (() => void)[] = []
  /** When each of the last second's requests started (rate limit). */
  private readonly starts: number[] = []
  private nextId = 1
  /** Requests sent, for tests and the bench. */
  requests = 0

  constructor(
    private opts: ForkRpcOptions,
    private readonly modules: ForkRpcModules = {},
  ) {
    checkUrl(opts.url)
  }

  get url(): string {
    return this.opts.url
  }

  /** Points the client at another URL (anvil_setRpcUrl): the same chain served elsewhere. */
  setUrl(url: string): void {
    checkUrl(url)
    this.opts = { ...this.opts, url }
  }

  /** One call; it joins the calls made in the same turn in one batch. */
  call<T = unknown>(method: string, params: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ method, params, resolve: resolve as (v: unknown) => void, reject, attempt: 0 })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      const max = this.opts.maxBatch ?? 50
      while (this.queue.length > 0) void this.send(this.queue.splice(0, max))
    })
  }

  private async send(batch: Pending[]): Promise<void> {
    await this.slot()
    let answers: unknown
    let transient: string | undefined
    try {
      answers = await this.post(batch)
    } catch (err) {
      transient = errorMessage(err)
    } finally {
      this.release()
    }
    if (transient !== undefined) return this.retry(batch, transient)
    const byId = new Map<number, { result?: unknown; error?: { code?: number; message?: string } }>()
    const list = Array.isArray(answers) ? answers : [answers]
    for (const a of list as { id: number; result?: unknown; error?: { code?: number; message?: string } }[]) {
      if (a && typeof a === 'object') byId.set(a.id, a)
    }
    const again: Pending[] = []
    for (const [i, p] of batch.entries()) {
      const a = byId.get(this.idOf(batch, i))
      if (!a) {
        p.reject(remoteError(`${p.method}: the remote answered no result for it`, this.opts.url))
      } else if (a.error) {
        if (RATE_LIMITED_CODES.has(Number(a.error.code))) again.push(p)
        else p.reject(remoteError(`${p.method}: ${a.error.message ?? 'error'} (code ${a.error.code})`, this.opts.url))
      } else {
        p.resolve(a.result)
      }
    }
    if (again.length > 0) await this.retry(again, 'rate limited')
  }

  /** Ids are assigned per batch from `first`: kept on the batch array. */
  private idOf(batch: Pending[], i: number): number {
    return ((batch as unknown as { firstId: number }).firstId ?? 0) + i
  }

  private async retry(batch: Pending[], why: string): Promise<void> {
    const attempts = this.opts.attempts ?? 5
    const left = batch.filter((p) => ++p.attempt < attempts)
    for (const p of batch) {
      if (p.attempt >= attempts) {
        p.reject(remoteError(`${p.method}: ${why} (gave up after ${attempts} attempts)`, this.opts.url))
      }
    }
    if (left.length === 0) return
    const attempt = Math.max(...left.map((p) => p.attempt))
    await this.sleep((this.opts.backoffMs ?? 200) * 2 ** (attempt - 1))
    return this.send(left)
  }

  private async post(batch: Pending[]): Promise<unknown> {
    const firstId = this.nextId
    this.nextId += batch.length
    ;(batch as unknown as { firstId: number }).firstId = firstId
    const body = batch.map((p, i) => ({ jsonrpc: '2.0', id: firstId + i, method: p.method, params: p.params }))
    this.requests++
    const doFetch = this.modules.fetch ?? fetch
    const res = await doFetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body.length === 1 ? body[0] : body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    })
    if (res.status === 429 || res.status >= 500) throw remoteError(`HTTP ${res.status}`, this.opts.url)
    if (!res.ok) {
      const err = remoteError(`HTTP ${res.status} from the remote`, this.opts.url)
      for (const p of batch) p.reject(err)
      return []
    }
    return res.json()
  }

  /** Waits for a free request slot (in-flight bound and rate limit). */
  private async slot(): Promise<void> {
    const max = this.opts.maxInFlight ?? 8
    while (this.inFlight >= max) await new Promise<void>((r) => this.waiting.push(r))
    this.inFlight++
    const rps = this.opts.requestsPerSecond ?? 0
    if (rps <= 0) return
    for (;;) {
      const now = this.now()
      while (this.starts.length > 0 && (this.starts[0] as number) <= now - 1000) this.starts.shift()
      if (this.starts.length < rps) {
        this.starts.push(now)
        return
      }
      await this.sleep((this.starts[0] as number) + 1000 - now)
    }
  }

  private release(): void {
    this.inFlight--
    this.waiting.shift()?.()
  }

  private now(): number {
    return this.modules.now?.() ?? Date.now()
  }

  private sleep(ms: number): Promise<void> {
    return this.modules.sleep?.(ms) ?? new Promise((r) => setTimeout(r, ms))
  }
}

function checkUrl(url: string): void {
  let ok = false
  try {
    const u = new URL(url)
    ok = u.protocol === 'http:' || u.protocol === 'https:'
  } catch {}
  if (!ok) {
    throw new CairnError(ChainErrorCode.FORK_REMOTE, `fork url ${JSON.stringify(url)} is not an http(s) URL`, {
      fault: 'caller',
      hint: 'give the remote node as --fork-url http://host:port (a JSON-RPC endpoint; WebSocket and IPC are not supported)',
    })
  }
}

function remoteError(message: string, url: string): CairnError {
  return new CairnError(ChainErrorCode.FORK_REMOTE, `fork remote ${redact(url)}: ${message}`, {
    fault: 'transient',
    hint: 'check that the remote node is up and serves the fork block (an archive node for an old block)',
  })
}

/** The URL without its path and query (API keys travel there): host and port only. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return '(bad url)'
  }
}
