import { type RunningSpan, requestFields, type Tracer } from '@cairn/service-kit'
import { CairnError, isCairnError, type Logger } from '@cairn/utils'
import { runBatch } from './batch.ts'
import { type ParsedBody, parseBody, UNPARSEABLE } from './body.ts'
import type { RpcContext } from './context.ts'
import { MAX_PARAMS_DEPTH, nestsDeeperThan } from './depth.ts'
import { RpcErrorCode, toJsonRpcError } from './errors.ts'
import { issueMessage } from './issue-message.ts'
import type { CallInfo, MethodDef } from './method.ts'
import type { RpcMetrics } from './metrics.ts'
import { namespaceOf } from './namespaces.ts'
import { isPromise } from './promise.ts'
import { type JsonRpcResponse, responseText } from './response-text.ts'
import { uint64RangeIssue } from './schemas.ts'

type Id = string | number | null

export type { JsonRpcResponse }

/**
 * Validates JSON-RPC envelopes, finds the declared method, validates its params with the
 * method's schema and runs it. Single requests and batches; a bad entry in a batch answers only
 * for itself. Errors become JSON-RPC errors in {@link toJsonRpcError}, nowhere else.
 */
export class RpcDispatcher {
  private readonly methods = new Map<string, MethodDef>()
  /** Methods whose schema parses `[]` to `[]`: an empty params list needs no validation. */
  private readonly noParams = new Set<MethodDef>()
  /** Metric children per label set (prom-client hashes a labels object on every call otherwise). */
  private readonly counters = new Map<string, { inc(): void }>()
  private readonly timers = new Map<string, { observe(v: number): void }>()

  constructor(
    /**
     * `testing`: serve the `testing_` namespace (off unless set). `namespaces`: serve only methods
     * of these (`rpc.api`, geth's `--http.api`); any other answers -32601 as a method that does not
     * exist, whatever the caller's role. Absent: every namespace.
     */
    readonly opts: { dev: boolean; testing?: boolean; namespaces?: readonly string[] },
    private readonly modules: {
      ctx: RpcContext
      methods: MethodDef[]
      metrics: RpcMetrics | null
      logger: Logger
      /** One span per call when tracing is on (undefined or the no-op tracer: nothing is started). */
      tracer?: Tracer
      /** The clock of batch time budgets (tests inject one). */
      now?: () => number
    },
  ) {
    const namespaces = opts.namespaces ? new Set(opts.namespaces) : null
    for (const m of modules.methods) {
      if (m.devOnly && !opts.dev) continue
      if (m.testingOnly && !opts.testing) continue
      if (namespaces && !namespaces.has(namespaceOf(m.name))) continue
      this.methods.set(m.name, m)
      // Parsing is deterministic: a schema that turns `[]` into `[]` always will.
      const empty = m.params.safeParse([])
      if (empty.success && Array.isArray(empty.data) && empty.data.length === 0) this.noParams.add(m)
    }
  }

  /** Counts a call by method and code, and times it by method. */
  private record(method: string, code: number, started: number): void {
    const m = this.modules.metrics as RpcMetrics
    const key = code === 0 ? method : `${method} ${code}`
    let counter = this.counters.get(key)
    if (!counter) {
      counter = m.requests.labels({ method, code: String(code) })
      this.counters.set(key, counter)
    }
    counter.inc()
    let timer = this.timers.get(method)
    if (!timer) {
      timer = m.duration.labels({ method })
      this.timers.set(method, timer)
    }
    timer.observe((performance.now() - started) / 1000)
  }

  /** The served method names (metrics labels come from this set only). */
  get methodNames(): string[] {
    return [...this.methods.keys()]
  }

  /** Handles a raw request body; returns the response text, or undefined for notifications. */
  async handleText(body: string, call: CallInfo = {}): Promise<string | undefined> {
    return this.handleParsed(parseBody(body), call)
  }

  /**
   * {@link handleText} for a body already parsed with {@link parseBody} (the server parses once for
   * the gate and here). A single request whose handler answered without waiting (a head read, an
   * account in memory) is answered now, not in a promise: the HTTP fast lane then writes it in the
   * same turn, without the promise chain's microtasks (see {@link Answer}).
   */
  handleParsed(body: ParsedBody, call: CallInfo = {}): Answer | Promise<Answer> {
    if (body === UNPARSEABLE) {
      return JSON.stringify(errorResponse(null, new CairnError(RpcErrorCode.PARSE, 'parse error', { fault: 'caller' })))
    }
    const parsed = body.value
    if (Array.isArray(parsed)) {
      const { batchLimit } = this.modules.ctx.limits
      if (parsed.length === 0) {
        return JSON.stringify(
          errorResponse(null, new CairnError(RpcErrorCode.INVALID_REQUEST, 'empty batch', { fault: 'caller' })),
        )
      }
      if (parsed.length > batchLimit) {
        return JSON.stringify(
          errorResponse(
            null,
            new CairnError(RpcErrorCode.BATCH_TOO_LARGE, `batch too large (max ${batchLimit} requests)`, {
              fault: 'caller',
            }),
          ),
        )
      }
      return this.handleBatch(parsed, call)
    }
    const res = this.handle(parsed, call)
    return isPromise(res) ? Promise.resolve(res).then(serialize) : serialize(res)
  }

  /**
   * Runs a batch ({@link runBatch}) under budgets as geth's: its answers total at most
   * `batchResponseLimit` bytes (each charged as it is produced; the rest answer -32003 "response
   * too large"), entries not started after `batchTimeLimitMs` answer -32002, and its EVM runs
   * (calls, estimates) share `batchGasLimit` gas, past which they answer -32005.
   */
  private handleBatch(entries: unknown[], call: CallInfo): Promise<string | undefined> {
    const { limits } = this.modules.ctx
    const { batchGasLimit } = limits
    const withBudget: CallInfo = { ...call, gasBudget: { left: batchGasLimit, limit: batchGasLimit } }
    return runBatch(entries, limits, {
      run: (entry) => this.handle(entry, withBudget),
      refuse: (entry, err) => this.refuse(entry, err),
      now: this.modules.now ?? Date.now,
    })
  }

  /** The answer to a batch entry not run, or whose answer is not sent (undefined for a notification). */
  private refuse(req: unknown, err: CairnError): JsonRpcResponse | undefined {
    const r = (typeof req === 'object' && req !== null ? req : {}) as { id?: unknown }
    if (!('id' in r)) return undefined
    const id: Id = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null
    return errorResponse(id, err)
  }

  /**
   * Handles one request object: the response now when the handler answered without a promise,
   * else a promise of it. Validation, errors, metrics and tracing are the same either way.
   */
  handle(req: unknown, call: CallInfo = {}): JsonRpcResponse | undefined | Promise<JsonRpcResponse | undefined> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return errorResponse(null, new CairnError(RpcErrorCode.INVALID_REQUEST, 'invalid request', { fault: 'caller' }))
    }
    const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown }
    const hasId = 'id' in r
    const id: Id = typeof r.id === 'string' || typeof r.id === 'number' || r.id === null ? (r.id as Id) : null
    if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || (hasId && id === null && r.id !== null)) {
      return errorResponse(id, new CairnError(RpcErrorCode.INVALID_REQUEST, 'invalid request', { fault: 'caller' }))
    }
    const started = performance.now()
    const def = this.methods.get(r.method)
    const label = def ? def.name : 'unknown'
    const span = this.modules.tracer?.begin(
      label,
      { 'rpc.system': 'jsonrpc', 'rpc.method': label },
      'server',
      call.trace,
    )
    const done: Done = { id, hasId, label, started, span, method: r.method, call }
    let result: unknown
    try {
      if (!def) {
        throw new CairnError(RpcErrorCode.METHOD_NOT_FOUND, `the method ${r.method} does not exist/is not available`, {
          fault: 'caller',
        })
      }
      const params = r.params === undefined ? [] : r.params
      if (!Array.isArray(params)) {
        throw new CairnError(RpcErrorCode.INVALID_PARAMS, 'invalid params: expected a positional array', {
          fault: 'caller',
        })
      }
      if (nestsDeeperThan(params, MAX_PARAMS_DEPTH)) {
        throw new CairnError(
          RpcErrorCode.INVALID_PARAMS,
          `invalid params: nested deeper than ${MAX_PARAMS_DEPTH} levels`,
          {
            fault: 'caller',
          },
        )
      }
      let data: unknown = params
      if (params.length > 0 || !this.noParams.has(def)) {
        const quick = def.quickParams?.(params)
        if (quick !== undefined) data = quick
        else {
          const parsed = def.params.safeParse(params)
          if (!parsed.success) throw paramsError(parsed.error.issues, params.length)
          data = parsed.data
        }
      }
      const { ctx } = this.modules
      result = span ? span.run(() => def.handler(data, ctx, call)) : def.handler(data, ctx, call)
    } catch (err) {
      return this.failed(done, err)
    }
    if (isPromise(result)) {
      // Promise.resolve returns a native promise as it is (no extra turn) and adopts other thenables.
      return Promise.resolve(result).then(
        (value) => this.answered(done, value),
        (err: unknown) => this.failed(done, err),
      )
    }
    return this.answered(done, result)
  }

  /** A handler's result as the response (undefined for a notification), counted and its span ended. */
  private answered(done: Done, result: unknown): JsonRpcResponse | undefined {
    return this.end(done, { jsonrpc: '2.0', id: done.id, result: result === undefined ? null : result })
  }

  /** A failure as the error response; failures that are the node's own are logged. */
  private failed(done: Done, err: unknown): JsonRpcResponse | undefined {
    if (!isCairnError(err) || err.fault === 'internal') {
      this.modules.logger.error(
        { err, method: done.method, ...(done.call.reqId ? requestFields(done.call.reqId) : {}) },
        'rpc method failed',
      )
    }
    return this.end(done, errorResponse(done.id, err))
  }

  private end(done: Done, response: JsonRpcResponse): JsonRpcResponse | undefined {
    const { span } = done
    if (span && response.error) span.setAttributes({ 'rpc.jsonrpc.error_code': response.error.code })
    span?.end(response.error?.message)
    if (this.modules.metrics) this.record(done.label, response.error ? response.error.code : 0, done.started)
    return done.hasId ? response : undefined
  }
}

/** What the dispatcher answers a body: the response text, or undefined (notifications only). */
export type Answer = string | undefined

/** What {@link RpcDispatcher.handle} carries from a request to its response. */
interface Done {
  id: Id
  hasId: boolean
  label: string
  started: number
  span: RunningSpan | undefined
  method: string
  call: CallInfo
}

function serialize(res: JsonRpcResponse | undefined): Answer {
  return res === undefined ? undefined : responseText(res)
}

function errorResponse(id: Id, err: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(err) }
}

type Issue = { path: PropertyKey[]; message: string; code: string; maximum?: unknown }

function paramsError(issues: Issue[], given: number): CairnError {
  // A union (block tag or number, number or options) that failed on a number too large says so.
  const issue = uint64RangeIssue(issues[0] as Issue) ?? (issues[0] as Issue)
  if (issue.code === 'too_big' && issue.path.length === 0) {
    // zod names the tuple's length as `maximum` (geth: "too many arguments, want at most N")
    const most = typeof issue.maximum === 'number' || typeof issue.maximum === 'bigint' ? issue.maximum : given - 1
    return new CairnError(RpcErrorCode.INVALID_PARAMS, `too many arguments, want at most ${most}`, {
      fault: 'caller',
    })
  }
  if (issue.path.length === 0) {
    return new CairnError(RpcErrorCode.INVALID_PARAMS, `missing value for required argument ${given}`, {
      fault: 'caller',
    })
  }
  const [index, ...rest] = issue.path
  const where = rest.length ? ` (field ${rest.join('.')})` : ''
  return new CairnError(
    RpcErrorCode.INVALID_PARAMS,
    `invalid argument ${String(index)}${where}: ${issueMessage(issue)}`,
    {
      fault: 'caller',
    },
  )
}
