// W3C trace context (https://www.w3.org/TR/trace-context/) as it travels between processes: the
// `traceparent` and `tracestate` headers of an HTTP request, a NATS message's headers, a field of
// the remote signer protocol. Reading and writing them needs no OpenTelemetry package: the tracer
// (tracing.ts) extracts and injects them with OpenTelemetry's own propagator; these helpers only
// move the two strings between a carrier and the places they ride in.

/** The two W3C trace context headers; `traceparent` is `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export interface TraceCarrier {
  traceparent?: string | undefined
  tracestate?: string | undefined
}

/** Headers as Node's `IncomingHttpHeaders` (lower-case names), or anything with `get(name)` (NATS `MsgHdrs`, fetch `Headers`). */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null | undefined }

/** A W3C `traceparent`, as §3.2 of the spec has it (version 00; trace and span ids not all zeros). */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/
/** The longest `tracestate` passed on (the spec's 32 entries of at most 256 characters, and their commas). */
const MAX_TRACESTATE = 32 * 257

/**
 * The trace context a request or message carries, or undefined when it has no well-formed
 * `traceparent` (a malformed one starts a new trace, as the spec says). An absent `tracestate` is left out.
 */
export function carrierFrom(headers: HeaderSource | undefined | null): TraceCarrier | undefined {
  if (!headers) return undefined
  const read = (name: string): string | undefined => {
    const v =
      typeof (headers as { get?: unknown }).get === 'function'
        ? (headers as { get(n: string): string | null | undefined }).get(name)
        : (headers as Record<string, string | readonly string[] | undefined>)[name]
    const one = Array.isArray(v) ? v[0] : v
    return typeof one === 'string' && one !== '' ? one.trim() : undefined
  }
  const traceparent = read('traceparent')?.toLowerCase()
  if (!traceparent || !TRACEPARENT.test(traceparent)) return undefined
  const tracestate = read('tracestate')
  return tracestate && tracestate.length <= MAX_TRACESTATE ? { traceparent, tracestate } : { traceparent }
}

/** The trace id (32 hex) of a carrier's `traceparent`, for a log line; undefined without one. */
export function traceIdOf(carrier: TraceCarrier | undefined): string | undefined {
  return carrier?.traceparent && TRACEPARENT.test(carrier.traceparent) ? carrier.traceparent.slice(3, 35) : undefined
}

/** Writes a carrier's headers through `set` (NATS `MsgHdrs`, fetch `Headers`); nothing without one. */
export function setTraceHeaders(
  target: { set(name: string, value: string): void },
  carrier: TraceCarrier | undefined,
): void {
  if (!carrier?.traceparent) return
  target.set('traceparent', carrier.traceparent)
  if (carrier.tracestate) target.set('tracestate', carrier.tracestate)
}

/**
 * `fetchFn` with the trace context of the moment of each call added as headers (viem's `http`
 * transport takes it as `fetchFn`): the node's JSON-RPC span of that call joins the caller's trace.
 * `context` is the tracer's `inject` (or service-kit's `activeTraceContext`); a request that
 * already names a `traceparent` keeps its own.
 */
export function fetchWithTraceContext(
  context: () => TraceCarrier | undefined,
  fetchFn: typeof fetch = globalThis.fetch,
): typeof fetch {
  return (input, init) => {
    const carrier = context()
    if (!carrier) return fetchFn(input, init)
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    if (!headers.has('traceparent')) setTraceHeaders(headers, carrier)
    return fetchFn(input, { ...init, headers })
  }
}
