// Roles, API keys and HS256 JWTs over the real HTTP and WebSocket transports; secrets never logged.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLogger, hashApiKey, signHs256 as signJwt } from '@cairn/service-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_METHODS, requiredRole } from '../../packages/rpc/src/index.ts'
import { WebSocket } from '../../packages/rpc/test/edge-server.ts'
import { type RpcResponse, type StartedNode, startDevNode, WsRpc } from './live-node.ts'

const USER_KEY = `user-${randomBytes(16).toString('hex')}`
const ADMIN_KEY = `admin-${randomBytes(16).toString('hex')}`
const SECRET = randomBytes(32)

async function rpc(url: string, method: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: [] }),
  })
  return { status: res.status, body: (await res.json()) as RpcResponse }
}

const now = () => Math.floor(Date.now() / 1000)

describe('authentication and roles', () => {
  let node: StartedNode
  let dir: string
  const lines: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-auth-'))
    const secretFile = join(dir, 'jwtsecret')
    writeFileSync(secretFile, `0x${SECRET.toString('hex')}\n`, { mode: 0o600 })
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const logger = createLogger({ level: 'debug', format: 'json', destination: sink })
    node = await startDevNode(
      {},
      {
        flags: {
          'auth.apiKeys': [
            { name: 'alice', keyHash: hashApiKey(USER_KEY), role: 'user' },
            { name: 'ops', keyHash: hashApiKey(ADMIN_KEY), role: 'admin' },
          ],
        },
        env: { CAIRN_AUTH_JWT_SECRET_FILE: secretFile },
        logger,
      },
    )
  })
  afterAll(async () => {
    await node?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves public reads without credentials', async () => {
    const r = await rpc(node.url, 'eth_blockNumber')
    expect(r.status).toBe(200)
    expect(r.body.result).toMatch(/^0x/)
  })

  it('refuses unauthenticated debug_ and admin_ calls with 401 naming the role', async () => {
    for (const method of ['debug_traceTransaction', 'admin_nodeInfo', 'evm_mine']) {
      const r = await rpc(node.url, method)
      expect(r.status).toBe(401)
      expect(r.body.id).toBe(7)
      expect(r.body.error?.code).toBe(-32001)
      expect(r.body.error?.message).toContain('needs role admin')
    }
  })

  it('a user key may send but not mine: 403 naming admin', async () => {
    const r = await rpc(node.url, 'evm_mine', { 'x-api-key': USER_KEY })
    expect(r.status).toBe(403)
    expect(r.body.error?.code).toBe(-32006)
    expect(r.body.error?.message).toMatch(/needs role admin \(you have user\)/)
    // eth_sendTransaction passes the gate (it fails later on its params, with -32602).
    const send = await rpc(node.url, 'eth_sendTransaction', { 'x-api-key': USER_KEY })
    expect(send.status).toBe(200)
    expect(send.body.error?.code).toBe(-32602)
  })

  it('a valid admin key works, as x-api-key or Bearer; an unknown key is refused', async () => {
    const a = await rpc(node.url, 'evm_mine', { 'x-api-key': ADMIN_KEY })
    expect(a.body.error).toBeUndefined()
    const b = await rpc(node.url, 'evm_mine', { authorization: `Bearer ${ADMIN_KEY}` })
    expect(b.body.error).toBeUndefined()
    const bad = await rpc(node.url, 'evm_mine', { 'x-api-key': `${ADMIN_KEY}x` })
    expect(bad.status).toBe(401)
    expect(bad.body.error?.message).toMatch(/unknown API key.*needs role admin/)
  })

  it('a fresh HS256 JWT works; a stale, future, expired or ill-signed one is refused', async () => {
    const ok = await rpc(node.url, 'evm_mine', {
      authorization: `Bearer ${signJwt({ iat: now(), role: 'admin' }, SECRET)}`,
    })
    expect(ok.body.error).toBeUndefined()
    // A token without a role claim is refused unless auth.jwtRole gives such tokens a role.
    const roleless = await rpc(node.url, 'evm_mine', { authorization: `Bearer ${signJwt({ iat: now() }, SECRET)}` })
    expect(roleless.status).toBe(401)
    expect(roleless.body.error?.message).toMatch(/JWT has no role claim.*needs role admin/)
    const badRole = await rpc(node.url, 'evm_mine', {
      authorization: `Bearer ${signJwt({ iat: now(), role: 'root' }, SECRET)}`,
    })
    expect(badRole.status).toBe(401)
    expect(badRole.body.error?.message).toContain('JWT claim role must be one of public, user, operator, admin')
    const userJwt = signJwt({ iat: now(), role: 'user', sub: 'bob' }, SECRET)
    expect((await rpc(node.url, 'evm_mine', { authorization: `Bearer ${userJwt}` })).status).toBe(403)
    const cases: [Record<string, unknown>, Uint8Array, RegExp][] = [
      [{ iat: now() - 120 }, SECRET, /stale/],
      [{ iat: now() + 120 }, SECRET, /stale or in the future/],
      [{ iat: now(), exp: now() - 1 }, SECRET, /expired/],
      [{ iat: now() }, randomBytes(32), /signature/],
    ]
    for (const [claims, secret, why] of cases) {
      const r = await rpc(node.url, 'debug_traceTransaction', { authorization: `Bearer ${signJwt(claims, secret)}` })
      expect(r.status).toBe(401)
      expect(r.body.error?.message).toMatch(why)
      expect(r.body.error?.message).toContain('needs role admin')
    }
  })

  it('a batch with one method above the caller is refused whole', async () => {
    const res = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
        { jsonrpc: '2.0', id: 2, method: 'txpool_status' },
      ]),
    })
    expect(res.status).toBe(401)
    const body = (await res.json()) as RpcResponse[]
    expect(body.map((r) => r.id)).toEqual([1, 2])
    expect(body[1]?.error?.message).toContain('needs role operator')
  })

  it('closes a WebSocket when the JWT it opened with expires (1008), ending its subscriptions', async () => {
    // exp is in whole seconds: now() + 4 lives 3–4 s, room for the upgrade and the subscription on a
    // loaded machine (with + 1 it lived 0–1 s, and a socket closed before the subscription's answer
    // left the test waiting for an answer that never came). Every wait below ends at an event.
    const token = signJwt({ iat: now(), exp: now() + 4, role: 'admin', sub: 'short-lived' }, SECRET)
    const ws = new WebSocket(node.url.replace(/^http/, 'ws'), { headers: { authorization: `Bearer ${token}` } })
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
    )
    const opened = await Promise.race([
      new Promise<'open'>((resolve) => ws.on('open', () => resolve('open'))),
      closed.then((c) => `closed before open: ${JSON.stringify(c)}`),
    ])
    expect(opened).toBe('open')
    const answer = new Promise<string>((resolve) => ws.on('message', (d: Buffer) => resolve(d.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }))
    const first = await Promise.race([answer, closed.then((c) => `closed before the answer: ${JSON.stringify(c)}`)])
    expect(first).toMatch(/"result":"0x/)
    expect(await closed).toEqual({ code: 1008, reason: 'credentials expired: reconnect with a fresh token' })
  })

  it('refuses over WebSocket too (credentials come from the upgrade request)', async () => {
    const ws = await WsRpc.connect(node.url)
    try {
      expect((await ws.request('eth_chainId')).result).toMatch(/^0x/)
      const r = await ws.request('evm_mine')
      expect(r.error?.code).toBe(-32001)
      expect(r.error?.message).toContain('needs role admin')
    } finally {
      await ws.close()
    }
  })

  it('logs carry request ids and never the key material', async () => {
    await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-1', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine' }),
    })
    await rpc(node.url, 'admin_nodeInfo', { authorization: `Bearer ${USER_KEY}`, 'x-request-id': 'trace-me-2' })
    // Wait for the refusal's log line (logs are written asynchronously) rather than a fixed time.
    for (let i = 0; i < 500 && !lines.join('').includes('"reqId":"trace-me-2"'); i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    const text = lines.join('')
    expect(text).toContain('"reqId":"trace-me-1"')
    expect(text).toMatch(/"reqId":"trace-me-2".*rpc request refused|rpc request refused.*"reqId":"trace-me-2"/)
    for (const secret of [USER_KEY, ADMIN_KEY, SECRET.toString('hex'), SECRET.toString('base64url')]) {
      expect(text).not.toContain(secret)
    }
  })
})

describe('the method → role table', () => {
  it('every dev-only method needs admin; sending needs user; reads stay public', () => {
    for (const m of ALL_METHODS) if (m.devOnly) expect(requiredRole(m.name), m.name).toBe('admin')
    for (const m of ALL_METHODS.filter((d) => d.name.startsWith('debug_'))) expect(requiredRole(m.name)).toBe('admin')
    expect(requiredRole('eth_sendRawTransaction')).toBe('user')
    expect(requiredRole('eth_signTypedData_v4')).toBe('user')
    expect(requiredRole('txpool_content')).toBe('operator')
    // personal_sign signs with a node-held key exactly as eth_sign: the same role.
    expect(requiredRole('personal_sign')).toBe(requiredRole('eth_sign'))
    expect(requiredRole('personal_sign')).toBe('user')
    expect(requiredRole('personal_ecRecover')).toBe('public')
    for (const m of ['personal_unlockAccount', 'personal_importRawKey', 'personal_newAccount']) {
      expect(requiredRole(m)).toBe('admin')
    }
    // Fail closed: a namespace nobody listed needs admin, never public by accident.
    for (const unknown of ['foo_bar', 'engine_newPayloadV4', 'rpc_modules', 'cairn_anything', 'x']) {
      expect(requiredRole(unknown), unknown).toBe('admin')
    }
    for (const read of ['eth_call', 'eth_getLogs', 'eth_blockNumber', 'eth_subscribe', 'net_version']) {
      expect(requiredRole(read)).toBe('public')
    }
  })
})
