import { describe, expect, it } from 'vitest'
import { carrierFrom, setTraceHeaders, traceIdOf } from '../src/index.ts'

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('W3C trace context carriers', () => {
  it('reads traceparent and tracestate from Node headers and from get() headers', () => {
    expect(carrierFrom({ traceparent: TP, tracestate: 'a=1' })).toEqual({ traceparent: TP, tracestate: 'a=1' })
    expect(carrierFrom({ traceparent: [TP, 'x'] })).toEqual({ traceparent: TP })
    const h = new Headers({ TraceParent: TP.toUpperCase() })
    expect(carrierFrom(h)).toEqual({ traceparent: TP })
    expect(carrierFrom({ get: (n: string) => (n === 'traceparent' ? TP : '') })).toEqual({ traceparent: TP })
  })

  it('refuses a traceparent that breaks the spec', () => {
    for (const bad of [
      '',
      'garbage',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace id
      `${TP}-extra`,
    ])
      expect(carrierFrom({ traceparent: bad }), bad).toBeUndefined()
    expect(carrierFrom(undefined)).toBeUndefined()
    expect(carrierFrom({})).toBeUndefined()
    // an oversized tracestate is dropped, the traceparent kept
    expect(carrierFrom({ traceparent: TP, tracestate: 'a'.repeat(10_000) })).toEqual({ traceparent: TP })
  })

  it('writes headers and names the trace', () => {
    const out: Record<string, string> = {}
    const set = (n: string, v: string) => {
      out[n] = v
    }
    setTraceHeaders({ set }, { traceparent: TP, tracestate: 'a=1' })
    expect(out).toEqual({ traceparent: TP, tracestate: 'a=1' })
    setTraceHeaders({ set: () => expect.unreachable() }, undefined)
    expect(traceIdOf({ traceparent: TP })).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(traceIdOf({ traceparent: 'x' })).toBeUndefined()
  })
})
