// A page handed to the RPC server (`pages`: the node's GhostDAG `/dag`) is served at its path with
// its own CSP; the port's other answers keep the deny-all one, and a path not given stays 404.
import { afterAll, describe, expect, it } from 'vitest'
import type { RpcServer } from '../src/index.ts'
import { rawRequest, stubServer } from './edge-server.ts'

const servers: RpcServer[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

describe('RpcServer pages', () => {
  it('serves a page at its path with its CSP, and nothing at other paths', async () => {
    const csp = "default-src 'none'; script-src 'sha256-abc'; connect-src 'self'"
    const { server, url } = await stubServer({}, { pages: [{ path: '/dag', html: '<!doctype html><p>dag</p>', csp }] })
    servers.push(server)
    const page = await rawRequest(url, { method: 'GET', path: '/dag' })
    expect(page.status).toBe(200)
    expect(page.text).toBe('<!doctype html><p>dag</p>')
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toBe(csp)
    const health = await rawRequest(url, { method: 'GET', path: '/health' })
    expect(health.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'")
    expect((await rawRequest(url, { method: 'GET', path: '/other' })).status).toBe(404)
    const bare = await stubServer({})
    servers.push(bare.server)
    expect((await rawRequest(bare.url, { method: 'GET', path: '/dag' })).status).toBe(404)
  })
})
