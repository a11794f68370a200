// Namespaces (`rpc.api`, geth's --http.api) are the first gate, roles the second: a method outside
// the served namespaces does not exist for anyone — over HTTP on the fast lane and through Fastify,
// in batches, over WebSocket, with auth on or off — and is answered -32601 with geth's words.
import { hashApiKey } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import {
  ALL_METHODS,
  createRpcMetrics,
  DEFAULT_RPC_NAMESPACES,
  DEFAULT_RPC_SERVER_OPTIONS,
  namespaceOf,
  RPC_NAMESPACES,
  type RpcContext,
  RpcDispatcher,
  RpcServer,
  type RpcServerOptions,
  readThreadMethods,
} from '../src/index.ts'
import { rawRequest, WebSocket } from './edge-server.ts'
import { testContext } from './test-context.ts'

const OFF = ['admin_addPeer', 'admin_removePeer', 'admin_nodeInfo', 'debug_traceTransaction', 'txpool_status']
const notAvailable = (m: string) => ({ code: -32601, message: `the method ${m} does not exist/is not available` })
const call = (method: string, params: unknown[] = [], id = 1) => ({ jsonrpc: '2.0', id, method, params })

let ctx: RpcContext
const servers: RpcServer[] = []
beforeAll(async () => {
  const chain = await openChain()
  ctx = testContext({ chain })
})
afterAll(async () => {
  for (const s of servers) await s.close()
})

function dispatcher(namespaces?: readonly string[]): RpcDispatcher {
  return new RpcDispatcher(
    { dev: false, ...(namespaces ? { namespaces } : {}) },
    { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger },
  )
}

async function serve(opts: Partial<RpcServerOptions>): Promise<string> {
  const registry = new Registry()
  const server = new RpcServer(
    { ...DEFAULT_RPC_SERVER_OPTIONS, host: '127.0.0.1', port: 0, ...opts },
    {
      dispatcher: dispatcher(opts.namespaces),
      ctx,
      registry,
      metrics: createRpcMetrics(registry),
      logger: silentLogger,
      health: null,
      rateLimitStore: null,
    },
  )
  servers.push(server)
  return server.listen()
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await rawRequest(url, { body: JSON.stringify(body), headers })
  return { status: r.status, json: JSON.parse(r.text) as unknown }
}

describe('the dispatcher serves only the enabled namespaces', () => {
  it('the production default answers admin_, debug_ and txpool_ as methods that do not exist', async () => {
    const d = dispatcher(DEFAULT_RPC_NAMESPACES)
    for (const m of OFF) expect((await d.handle(call(m)))?.error, m).toEqual(notAvailable(m))
    expect((await d.handle(call('eth_chainId')))?.result).toBe('0x539')
    expect((await d.handle(call('net_version')))?.result).toBe('1337')
    expect((await d.handle(call('web3_clientVersion')))?.result).toBe('cairn/test')
    expect(new Set(d.methodNames.map(namespaceOf))).toEqual(new Set(DEFAULT_RPC_NAMESPACES))
    // Without a list (as before, and what --dev gets): every namespace.
    expect((await dispatcher().handle(call('admin_addPeer', ['/ip4/127.0.0.1/tcp/1'])))?.result).toBe(false)
  })

  it('every declared method is in a known namespace, and what read threads answer is in eth (always served)', () => {
    for (const m of ALL_METHODS) expect(RPC_NAMESPACES as readonly string[], m.name).toContain(namespaceOf(m.name))
    for (const m of readThreadMethods()) expect(namespaceOf(m), m).toBe('eth')
  })
})

describe('over the server', () => {
  it.each([
    ['the fast lane', {}],
    ['Fastify', { fastLane: false }],
  ] as const)('%s: a single request and a batch entry outside the namespaces get -32601', async (_, lane) => {
    const url = await serve({ ...lane, namespaces: DEFAULT_RPC_NAMESPACES })
    for (const m of OFF) {
      const r = await post(url, call(m))
      expect(r.status).toBe(200)
      expect(r.json).toEqual({ jsonrpc: '2.0', id: 1, error: notAvailable(m) })
    }
    const batch = await post(url, [call('eth_chainId', [], 1), call('admin_addPeer', ['/ip4/127.0.0.1/tcp/1'], 2)])
    expect(batch.json).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0x539' },
      { jsonrpc: '2.0', id: 2, error: notAvailable('admin_addPeer') },
    ])
  })

  it('over WebSocket', async () => {
    const url = await serve({ namespaces: DEFAULT_RPC_NAMESPACES })
    const ws = new WebSocket(url.replace(/^http/, 'ws'))
    const answers: unknown[] = []
    const two = new Promise<void>((resolve, reject) => {
      ws.on('error', reject)
      ws.on('message', (data) => {
        answers.push(JSON.parse(data.toString()))
        if (answers.length === 2) resolve()
      })
    })
    await new Promise<void>((resolve) => ws.on('open', () => resolve()))
    ws.send(JSON.stringify(call('admin_removePeer', ['/ip4/127.0.0.1/tcp/1'], 1)))
    ws.send(JSON.stringify(call('eth_chainId', [], 2)))
    await two
    ws.close()
    expect(answers).toEqual([
      { jsonrpc: '2.0', id: 1, error: notAvailable('admin_removePeer') },
      { jsonrpc: '2.0', id: 2, result: '0x539' },
    ])
  })

  it('with auth on, namespaces come before roles: anyone gets -32601, not a 401 hinting that a key opens it', async () => {
    const key = 'k'.repeat(32)
    const auth = {
      enabled: true,
      apiKeys: [{ name: 'ops', keyHash: hashApiKey(key), role: 'admin' as const }],
      jwtSecret: null,
      jwtRole: null,
      jwks: null,
    }
    const url = await serve({ auth, namespaces: DEFAULT_RPC_NAMESPACES })
    for (const headers of [{}, { 'x-api-key': key }] as Record<string, string>[]) {
      const r = await post(url, call('admin_addPeer', ['/ip4/127.0.0.1/tcp/1']), headers)
      expect(r.status).toBe(200)
      expect(r.json).toEqual({ jsonrpc: '2.0', id: 1, error: notAvailable('admin_addPeer') })
    }
    // A served method above `public` still needs its role.
    const withDebug = await serve({ auth, namespaces: [...DEFAULT_RPC_NAMESPACES, 'debug'] })
    expect((await post(withDebug, call('debug_getRawHeader', ['0x0']))).status).toBe(401)
    const raw = await post(withDebug, call('debug_getRawHeader', ['0x0']), { 'x-api-key': key })
    expect(raw.json).toMatchObject({ result: expect.stringMatching(/^0x[0-9a-f]+$/) })
  })
})
