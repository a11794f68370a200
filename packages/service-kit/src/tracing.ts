import type { Logger } from '@cairn/utils'
// Types only: the OpenTelemetry packages (~200 ms and ~15 MB to load) are imported when tracing
// is turned on, never by a node that runs without it.
import type * as OtelApi from '@opentelemetry/api'
import type { Tracer as OtelTracer, Span } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace-node'
import { requestContext } from './request-context.ts'
import type { TraceCarrier } from './tracing-carrier.ts'

export type SpanAttributes = Record<string, string | number | boolean | undefined>

/** A span in progress, as a component sees it. */
export interface SpanHandle {
  setAttributes(attrs: SpanAttributes): void
}

/** A span started by {@link Tracer.begin}: the caller ends it. */
export interface RunningSpan extends SpanHandle {
  /** Runs `fn` with this span active: spans `fn` starts are its children; log lines carry its ids. */
  run<T>(fn: () => T): T
  /** Ends the span; an `error` message marks it failed. */
  end(error?: string): void
}

/** OpenTelemetry's span kinds: `server` for a request taken, `client` for one made, `producer` and `consumer` for a queue. */
export type SpanKindName = 'server' | 'internal' | 'client' | 'producer' | 'consumer'

/** How a span starts: its kind, and a remote parent (W3C trace context from a header or a message). */
export interface SpanOptions {
  kind?: SpanKindName
  /** The caller's `traceparent`/`tracestate`: the span joins that trace. Absent or invalid: the active span is the parent. */
  parent?: TraceCarrier | undefined
}

/**
 * What components trace through. When tracing is off it is {@link noopTracer}: `enabled` is false,
 * `begin` returns undefined and nothing is wrapped, so the hot paths pay one property check.
 */
export interface Tracer {
  readonly enabled: boolean
  /**
   * Starts a span (a child of `parent` when that carries a valid `traceparent`, else of the active
   * span), or returns undefined when tracing is off.
   */
  begin(name: string, attrs?: SpanAttributes, kind?: SpanKindName, parent?: TraceCarrier): RunningSpan | undefined
  /** Runs `fn` in a child span of the active one (or of `opts.parent`); a rejection marks the span failed and is rethrown. */
  span<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>, opts?: SpanOptions): Promise<T>
  /**
   * The active span's context as W3C headers (`traceparent`, and `tracestate` when set), to send
   * with an outgoing request or message; undefined when tracing is off or no span is active.
   */
  inject(): TraceCarrier | undefined
  /**
   * Replaces `obj[key]` (an async method) with one that runs in a span named `name`; `attrs` reads
   * attributes from the arguments, `after` from the result. Does nothing when tracing is off.
   * The composition root uses this to trace components that do not know about tracing.
   */
  wrapMethod<O extends object, K extends AsyncMethodKeys<O>>(
    obj: O,
    key: K,
    name: string,
    attrs?: (...args: Parameters<AsyncMethod<O, K>>) => SpanAttributes,
    after?: (result: Awaited<ReturnType<AsyncMethod<O, K>>>) => SpanAttributes,
  ): void
}

// biome-ignore lint/suspicious/noExplicitAny: any method signature
type AnyAsync = (...args: any[]) => Promise<unknown>
type AsyncMethodKeys<O> = { [K in keyof O]: O[K] extends AnyAsync ? K : never }[keyof O]
type AsyncMethod<O, K extends keyof O> = O[K] extends AnyAsync ? O[K] : never

/** The tracer when tracing is off. */
export const noopTracer: Tracer = {
  enabled: false,
  begin: () => undefined,
  span: (_name, _attrs, fn) => fn(NOOP_HANDLE),
  inject: () => undefined,
  wrapMethod: () => {},
}

const NOOP_HANDLE: SpanHandle = { setAttributes: () => {} }

export interface TracingOptions {
  enabled: boolean
  /** OTLP/HTTP traces URL of the collector (`http://127.0.0.1:4318/v1/traces`). */
  otlpEndpoint: string
  /** Share of new traces recorded, 0..1; children follow their parent. */
  sampleRatio: number
  serviceName: string
  version: string
  /** Where spans go instead of OTLP (tests: an InMemorySpanExporter), exported one by one. */
  exporter?: SpanExporter
}

/** The tracer handed to components, and the provider's lifecycle. */
export interface Tracing {
  tracer: Tracer
  /** Sends the spans not yet exported. */
  flush(): Promise<void>
  /** Flushes and stops exporting (a shutdown step). */
  shutdown(): Promise<void>
}

let registered = false
/** Reads the active span's ids; set once tracing is on (until then no span can be active). */
let activeIds: (() => { trace_id: string; span_id: string } | undefined) | undefined
/** Writes the active context as W3C headers; set once tracing is on. */
let injectActive: (() => TraceCarrier | undefined) | undefined

/**
 * OpenTelemetry tracing: a NodeTracerProvider whose spans go to an OTLP/HTTP collector in
 * batches, sampled by trace id with the parent's decision followed. Off (the default), it is the
 * {@link noopTracer} and OpenTelemetry is not even loaded.
 */
export async function createTracing(opts: TracingOptions, modules: { logger: Logger }): Promise<Tracing> {
  if (!opts.enabled) return { tracer: noopTracer, flush: async () => {}, shutdown: async () => {} }
  const [api, sdk, otlp, resources, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ])
  const log = modules.logger.child({ module: 'tracing' })
  // A collector that is down must not hold up the node: each export gives up after 3 s.
  const exporter =
    opts.exporter ?? new otlp.OTLPTraceExporter({ url: opts.otlpEndpoint, timeoutMillis: EXPORT_TIMEOUT_MS })
  const processor = opts.exporter
    ? new sdk.SimpleSpanProcessor(exporter)
    : new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000, exportTimeoutMillis: EXPORT_TIMEOUT_MS })
  const provider = new sdk.NodeTracerProvider({
    resource: resources.resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: opts.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: opts.version,
    }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(opts.sampleRatio) }),
    spanProcessors: [processor],
  })
  if (!registered) {
    // The AsyncLocalStorage context manager carries the active span across awaits (once per process).
    provider.register()
    const warn = throttled(log, DIAG_LOG_EVERY_MS)
    api.diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, api.DiagLogLevel.WARN)
    activeIds = () => {
      const span = api.trace.getActiveSpan()
      if (!span) return undefined
      const sc = span.spanContext()
      return { trace_id: sc.traceId, span_id: sc.spanId }
    }
    // provider.register() installed OpenTelemetry's W3C propagators (trace context and baggage).
    injectActive = () => {
      if (!api.trace.getActiveSpan()) return undefined
      const carrier: TraceCarrier = {}
      api.propagation.inject(api.context.active(), carrier)
      return carrier.traceparent ? carrier : undefined
    }
    registered = true
  }
  log.info(
    { endpoint: opts.exporter ? '(custom exporter)' : opts.otlpEndpoint, sampleRatio: opts.sampleRatio },
    'tracing on',
  )
  return {
    tracer: otelTracer(api, provider.getTracer('cairn', opts.version)),
    flush: () => provider.forceFlush(),
    // Spans not sent within SHUTDOWN_MS are dropped: stopping the node matters more.
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined
      const gaveUp = await Promise.race([
        provider.shutdown().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), SHUTDOWN_MS)
        }),
      ]).finally(() => clearTimeout(timer))
      if (gaveUp)
        log.warn({ endpoint: opts.otlpEndpoint, ms: SHUTDOWN_MS }, 'tracing: unsent spans dropped at shutdown')
    },
  }
}

const EXPORT_TIMEOUT_MS = 3000
const SHUTDOWN_MS = 2000
const DIAG_LOG_EVERY_MS = 60_000

/**
 * OpenTelemetry's own complaints (an export that failed…) as one warn line per minute at most:
 * a collector that is down must not flood the log.
 */
function throttled(log: Logger, everyMs: number): (msg: string, ...args: unknown[]) => void {
  let last = 0
  let suppressed = 0
  return (msg) => {
    const now = Date.now()
    if (now - last < everyMs) {
      suppressed++
      return
    }
    last = now
    // Not part of whichever request's async context scheduled the export.
    requestContext.exit(() =>
      log.warn(
        { detail: diagDetail(msg), suppressed },
        'tracing: OpenTelemetry reported a problem (once a minute at most)',
      ),
    )
    suppressed = 0
  }
}

/** The message of an error OpenTelemetry passes as JSON text, else the text's first line. */
function diagDetail(msg: string): string {
  try {
    const parsed = JSON.parse(msg) as { message?: unknown; stack?: unknown }
    if (typeof parsed.message === 'string') return parsed.message
    if (typeof parsed.stack === 'string') return parsed.stack.split('\n')[0] ?? msg
  } catch {
    // not JSON
  }
  return msg.split('\n')[0] ?? msg
}

/** The ids of the active span, for log lines (`trace_id`, `span_id`, as OpenTelemetry names them). */
export function activeTraceFields(): { trace_id: string; span_id: string } | undefined {
  return activeIds?.()
}

/**
 * The active span's context as W3C headers (`traceparent`, `tracestate`), for code that is handed
 * no tracer (a client library's hook); undefined when tracing is off or no span is active.
 */
export function activeTraceContext(): TraceCarrier | undefined {
  return injectActive?.()
}

function otelTracer(api: typeof OtelApi, t: OtelTracer): Tracer {
  const kinds: Record<SpanKindName, OtelApi.SpanKind> = {
    server: api.SpanKind.SERVER,
    internal: api.SpanKind.INTERNAL,
    client: api.SpanKind.CLIENT,
    producer: api.SpanKind.PRODUCER,
    consumer: api.SpanKind.CONSUMER,
  }
  /** The context a span starts in: the remote parent's when it carries a valid traceparent, else the active one. */
  const parentContext = (parent: TraceCarrier | undefined): OtelApi.Context => {
    const active = api.context.active()
    if (!parent?.traceparent) return active
    const remote = api.propagation.extract(api.ROOT_CONTEXT, parent)
    return api.trace.getSpanContext(remote) ? remote : active
  }
  const running = (span: Span): RunningSpan => ({
    run: (fn) => api.context.with(api.trace.setSpan(api.context.active(), span), fn),
    setAttributes: (attrs) => span.setAttributes(attrs),
    end: (error) => {
      if (error !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error })
      span.end()
    },
  })
  const tracer: Tracer = {
    enabled: true,
    begin: (name, attrs, kind, parent) =>
      running(t.startSpan(name, { attributes: attrs, kind: kinds[kind ?? 'internal'] }, parentContext(parent))),
    inject: () => injectActive?.(),
    span: (name, attrs, fn, opts) =>
      t.startActiveSpan(
        name,
        { attributes: attrs, kind: kinds[opts?.kind ?? 'internal'] },
        parentContext(opts?.parent),
        async (span) => {
          try {
            return await fn({ setAttributes: (a) => span.setAttributes(a) })
          } catch (err) {
            span.recordException(err as Error)
            span.setStatus({
              code: api.SpanStatusCode.ERROR,
              message: err instanceof Error ? err.message : String(err),
            })
            throw err
          } finally {
            span.end()
          }
        },
      ),
    wrapMethod: (obj, key, name, attrs, after) => {
      const orig = obj[key] as AnyAsync
      const wrapped: AnyAsync = (...args) =>
        tracer.span(name, attrs ? attrs(...(args as Parameters<typeof attrs>)) : {}, async (span) => {
          const result = await orig.apply(obj, args)
          if (after) span.setAttributes(after(result as Parameters<typeof after>[0]))
          return result
        })
      ;(obj as Record<PropertyKey, unknown>)[key as PropertyKey] = wrapped
    },
  }
  return tracer
}
