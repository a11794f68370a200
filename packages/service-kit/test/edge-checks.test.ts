// The edge's checks without a server: the order (host, origin, content type, shedding),
// /health always served, and the neutral refusals each service maps to its own errors.
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { checkEdge, type EdgeState, securityHeaders } from '../src/index.ts'

const socket = {} as Socket
const state = (over: Partial<EdgeState> = {}): EdgeState => ({
  vhosts: ['localhost'],
  cors: [],
  lag: null,
  shedLagMs: 0,
  ...over,
})
const req = (headers: Record<string, string>, method = 'GET', url = '/') => ({ method, url, headers, socket })

describe('checkEdge', () => {
  it('refuses foreign hosts, foreign WebSocket origins and (when asked) non-JSON posts, in that order', () => {
    expect(checkEdge(req({ host: 'localhost:8545' }), state())).toBeUndefined()
    expect(checkEdge(req({ host: '127.0.0.1:8545' }), state())).toBeUndefined()
    expect(checkEdge(req({ host: 'evil.example' }), state())?.kind).toBe('invalid_host')
    const ws = { host: 'localhost', upgrade: 'websocket', origin: 'https://evil.example' }
    expect(checkEdge(req(ws), state())?.kind).toBe('origin_forbidden')
    expect(checkEdge(req(ws), state({ cors: ['https://evil.example'] }))).toBeUndefined()
    expect(checkEdge(req(ws), state(), { webSocketOrigins: 'any' })).toBeUndefined()
    const form = req({ host: 'localhost', 'content-type': 'text/plain' }, 'POST')
    expect(checkEdge(form, state())).toBeUndefined()
    const json = (h: string | string[] | undefined) => h === 'application/json'
    expect(checkEdge(form, state(), { contentType: json })?.kind).toBe('content_type')
  })

  it("takes an absolute-form target's host, not the Host header, and refuses a target of neither form", () => {
    const abs = (url: string) => req({ host: 'localhost:8545' }, 'GET', url)
    expect(checkEdge(abs('http://evil.com/'), state())?.kind).toBe('invalid_host')
    expect(checkEdge(abs('https://user@evil.com:8545/x?y'), state())?.kind).toBe('invalid_host')
    expect(checkEdge(abs('http://localhost:8545/'), state())).toBeUndefined()
    expect(checkEdge(abs('http://127.0.0.1/'), state())).toBeUndefined()
    expect(checkEdge(abs('http://evil.com/'), state({ vhosts: ['*'] }))).toBeUndefined()
    expect(checkEdge(abs('evil.com:80'), state())).toMatchObject({
      kind: 'invalid_host',
      message: 'invalid request target',
    })
    expect(checkEdge(abs('http:///nohost'), state())?.kind).toBe('invalid_host')
    expect(checkEdge(abs('*'), state())).toBeUndefined()
  })

  it('sheds load past the threshold with a Retry-After in seconds, but always serves /health', () => {
    const lag = { lagMs: () => 2500, close: () => {} }
    const refused = checkEdge(req({ host: 'localhost' }), state({ lag, shedLagMs: 100 }))
    expect(refused).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 3 })
    expect(checkEdge(req({ host: 'localhost' }, 'GET', '/health'), state({ lag, shedLagMs: 100 }))).toBeUndefined()
  })
})

describe('securityHeaders', () => {
  it("a JSON API's deny-all CSP by default, a page's own when given; HSTS only over TLS", () => {
    const api = securityHeaders({ tls: false })
    expect(api['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
    expect(api['strict-transport-security']).toBeUndefined()
    expect(api['x-content-type-options']).toBe('nosniff')
    // Only what means something for JSON (OWASP REST Security Cheat Sheet); HSTS added over TLS.
    expect(Object.keys(api).sort()).toEqual(['content-security-policy', 'x-content-type-options', 'x-frame-options'])
    expect(api['x-frame-options']).toBe('DENY')
    expect(Object.keys(securityHeaders({ tls: true })).sort()).toEqual([
      'content-security-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
    ])
    // A page gets helmet's full set: its referrer, opener and cross-origin policies too.
    const page = securityHeaders({ tls: true, csp: { defaultSrc: ["'self'"] } })
    expect(page['content-security-policy']).toBe("default-src 'self'")
    expect(page['strict-transport-security']).toContain('max-age=')
    expect(page['referrer-policy']).toBe('no-referrer')
    expect(page['cross-origin-opener-policy']).toBe('same-origin')
  })
})
