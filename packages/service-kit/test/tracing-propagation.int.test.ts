// W3C trace context through service-kit's tracer: a remote parent (`traceparent` from a header or
// a message) is continued, a malformed one starts a new trace, `inject` gives the active span's
// context, and `fetchWithTraceContext` puts it on an outgoing request. (Carrier parsing: the
// unit tests in tracing-carrier.test.ts.)
import { silentLogger } from '@cairn/utils'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { activeTraceContext, createTracing, fetchWithTraceContext, noopTracer } from '../src/index.ts'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'

async function memTracing() {
  const exporter = new InMemorySpanExporter()
  const tracing = await createTracing(
    {
      enabled: true,
      otlpEndpoint: 'http://127.0.0.1:1/v1/traces',
      sampleRatio: 1,
      serviceName: 't',
      version: '0',
      exporter,
    },
    { logger: silentLogger },
  )
  return { exporter, tracing }
}

describe('trace context across processes', () => {
  it('continues a remote parent in begin and span, with the kind asked for', async () => {
    const { exporter, tracing } = await memTracing()
    const { tracer } = tracing
    const parent = { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=x' }
    const server = tracer.begin('eth_call', {}, 'server', parent)
    server?.end()
    await tracer.span('ledger.batch', {}, async () => {}, { kind: 'consumer', parent })
    const [a, b] = exporter.getFinishedSpans()
    for (const s of [a, b]) {
      expect(s?.spanContext().traceId).toBe(TRACE)
      expect(s?.parentSpanContext?.spanId).toBe(PARENT)
      expect(s?.spanContext().traceState?.get('vendor')).toBe('x')
    }
    expect(a?.kind).toBe(1) // SERVER
    expect(b?.kind).toBe(4) // CONSUMER
  })

  it('starts a new trace for a malformed traceparent, and follows the active span without one', async () => {
    const { exporter, tracing } = await memTracing()
    const { tracer } = tracing
    tracer.begin('bad', {}, 'server', { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` })?.end()
    await tracer.span('outer', {}, async () => {
      tracer.begin('inner', {}, 'internal', {})?.end()
    })
    const [bad, inner, outer] = exporter.getFinishedSpans()
    expect(bad?.spanContext().traceId).not.toBe('0'.repeat(32))
    expect(bad?.parentSpanContext).toBeUndefined()
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId)
  })

  it('injects the active span as traceparent, onto outgoing requests too', async () => {
    const { exporter, tracing } = await memTracing()
    const { tracer } = tracing
    expect(tracer.inject()).toBeUndefined()
    const seen: (string | null)[] = []
    const fake = (async (_input: unknown, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('traceparent'))
      return new Response('{}')
    }) as typeof fetch
    const traced = fetchWithTraceContext(tracer.inject, fake)
    await traced('http://x/', { headers: { 'content-type': 'application/json' } })
    await tracer.span('call', {}, async () => {
      expect(activeTraceContext()).toEqual(tracer.inject())
      await traced('http://x/', { headers: { 'content-type': 'application/json' } })
      // a request that names its own traceparent keeps it
      await traced('http://x/', { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } })
    })
    const [call] = exporter.getFinishedSpans()
    expect(seen[0]).toBeNull()
    expect(seen[1]).toBe(`00-${call?.spanContext().traceId}-${call?.spanContext().spanId}-01`)
    expect(seen[2]).toBe(`00-${TRACE}-${PARENT}-01`)
    expect(noopTracer.inject()).toBeUndefined()
  })
})
