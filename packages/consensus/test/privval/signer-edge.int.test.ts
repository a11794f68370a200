/**
 * The remote signer's edge under hostile input, over real mutual TLS on loopback (a real
 * SignerServer, real sockets; issue 66): a frame whose error would quote its input, a flood of
 * idle TCP connections from one address, half-sent frames holding every session, a client that
 * never reads its answers, and heights no chain reaches. Each must cost the attacker its own
 * connection at most: the signer keeps serving the validators that use it, and its double-sign
 * protection never records what it refused.
 */
import { type Socket, connect as tcpConnect } from 'node:net'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import { privateKeyToAddress } from '@cairn/crypto'
import { FrameReader, MAX_FRAME_BYTES } from '@cairn/keys/remote-signer'
import { bytesToHex, type Logger, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { MsgType } from '../../src/index.ts'
import {
  createSignerServerMetrics,
  MemoryProtectionStore,
  RemoteSigner,
  SignerServer,
  type SignerServerOptions,
  SignProtection,
} from '../../src/privval/index.ts'
import { block } from '../bft/fixture.ts'
import { validatorKey } from '../harness/bft-network.ts'
import { makePki, type Pem } from './tls-fixture.ts'

const CHAIN = 1337n
const KEY = validatorKey(0)
const ADDRESS = bytesToHex(privateKeyToAddress(KEY))
let pki: ReturnType<typeof makePki>
const servers: SignerServer[] = []
const sockets: Socket[] = []
const clients: RemoteSigner[] = []

beforeAll(() => {
  pki = makePki(['node1', 'node2', 'node3'])
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of sockets.splice(0)) s.destroy()
  for (const s of servers.splice(0)) await s.close()
})
afterAll(() => {
  for (const s of sockets) s.destroy()
})

interface Started {
  server: SignerServer
  port: number
  registry: Registry
  store: MemoryProtectionStore
}

async function start(
  opts: Partial<SignerServerOptions> = {},
  modules: { txKeys?: Uint8Array[]; logger?: Logger } = {},
): Promise<Started> {
  const registry = new Registry()
  const store = new MemoryProtectionStore()
  const server = new SignerServer(
    {
      chainId: CHAIN,
      host: '127.0.0.1',
      port: 0,
      tls: {
        ...pki.server,
        ca: [pki.ca],
        clients: ['node1', 'node2', 'node3'].map((n) => pki.clients[n]?.cert as string),
      },
      ...opts,
    },
    {
      keys: [KEY],
      ...(modules.txKeys ? { txKeys: modules.txKeys } : {}),
      protection: new SignProtection({ store }),
      logger: modules.logger ?? silentLogger,
      metrics: createSignerServerMetrics(registry),
    },
  )
  servers.push(server)
  const { port } = await server.listen()
  return { server, port, registry, store }
}

/** A metric's value for the given labels (0 when absent). */
async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name)
  if (m === undefined) return Number.NaN
  const values = (await m.get()).values
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
  return hit?.value ?? 0
}

function frame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const head = Buffer.alloc(4)
  head.writeUInt32BE(bytes.length, 0)
  return Buffer.concat([head, bytes])
}

/** A TLS client speaking raw frames: it sends what a test writes and collects the answers. */
interface RawClient {
  socket: TLSSocket
  answers: { id: number; result?: unknown; error?: { code: string; message: string } }[]
  closed: Promise<void>
  isClosed: () => boolean
  /** The next answer (waits for it). */
  next: () => Promise<RawClient['answers'][number]>
}

function rawTls(port: number, who: string, opts: { read?: boolean; localAddress?: string } = {}): Promise<RawClient> {
  const pem = pki.clients[who] as Pem
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      cert: pem.cert,
      key: pem.key,
      minVersion: 'TLSv1.3',
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    })
    sockets.push(socket)
    const reader = new FrameReader()
    const answers: RawClient['answers'] = []
    let taken = 0
    let closed = false
    const closedP = new Promise<void>((r) => socket.once('close', () => r()))
    socket.once('close', () => {
      closed = true
    })
    socket.on('error', () => {})
    if (opts.read !== false) socket.on('data', (chunk: Buffer) => answers.push(...(reader.push(chunk) as never[])))
    else socket.pause()
    socket.once('secureConnect', () =>
      resolve({
        socket,
        answers,
        closed: closedP,
        isClosed: () => closed,
        next: async () => {
          await vi.waitFor(() => expect(answers.length).toBeGreaterThan(taken), { timeout: 10_000, interval: 10 })
          return answers[taken++] as RawClient['answers'][number]
        },
      }),
    )
    socket.once('error', reject)
  })
}

/** A plain TCP connection from `localAddress` that sends nothing (or what the test writes). */
function rawTcp(port: number, localAddress: string): Promise<{ socket: Socket; isClosed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, localAddress })
    sockets.push(socket)
    let closed = false
    socket.once('close', () => {
      closed = true
    })
    socket.on('error', () => {})
    socket.once('connect', () => resolve({ socket, isClosed: () => closed }))
    socket.once('error', reject)
  })
}

function remote(port: number, who: string): Promise<RemoteSigner> {
  const pem = pki.clients[who] as Pem
  return RemoteSigner.connect(
    {
      chainId: CHAIN,
      url: `tls://127.0.0.1:${port}`,
      tls: { ca: pki.ca, cert: pem.cert, key: pem.key },
      timeoutMs: 5_000,
      reconnectMs: { min: 50, max: 200 },
    },
    { logger: silentLogger },
  ).then((c) => {
    clients.push(c)
    return c
  })
}

describe('one frame from a pinned client', () => {
  it('answers an unknown field name just under the frame cap with a short error that does not quote it, and serves on', async () => {
    const s = await start()
    const c = await rawTls(s.port, 'node1')
    const name = 'x'.repeat(MAX_FRAME_BYTES - 64)
    const body = `{"id":7,"method":"ping","${name}":1}`
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    c.socket.write(frame(body))
    const answer = await c.next()
    expect(answer).toMatchObject({ id: 7, error: { code: 'BAD_REQUEST' } })
    expect(answer.error?.message).not.toMatch(/xxxx/)
    expect(answer.error?.message.length).toBeLessThanOrEqual(256)
    // An over-long method name and an over-long key value are not quoted either.
    c.socket.write(frame(`{"id":8,"method":"${'m'.repeat(60_000)}"}`))
    c.socket.write(
      frame(
        `{"id":9,"method":"signVote","key":"0x${'k'.repeat(60_000)}","chainId":"1337","vote":{"type":1,"height":1,"round":0,"blockHash":null}}`,
      ),
    )
    for (const id of [8, 9]) {
      const a = await c.next()
      expect(a).toMatchObject({ id, error: { code: 'BAD_REQUEST' } })
      expect(a.error?.message).not.toMatch(/mmmm|kkkk/)
      expect(a.error?.message.length).toBeLessThanOrEqual(256)
    }
    // The same connection, and any other, still answers.
    c.socket.write(frame('{"id":10,"method":"ping"}'))
    expect(await c.next()).toEqual({ id: 10, result: {} })
    const v = await remote(s.port, 'node2')
    expect(await v.signVote({ type: MsgType.PREVOTE, height: 1, round: 0, blockHash: block('A').hash })).toHaveProperty(
      'signature',
    )
  })

  it('closes only its own connection when answering it fails, and counts it', async () => {
    // A logger that throws on the line written after a signature: a fault inside the handler.
    const faulty = {
      ...silentLogger,
      child: () => faulty,
      debug: () => {
        throw new Error('the log sink broke')
      },
    } as unknown as Logger
    const s = await start({}, { logger: faulty })
    const c = await rawTls(s.port, 'node1')
    const other = await rawTls(s.port, 'node2')
    c.socket.write(
      frame(
        JSON.stringify({
          id: 1,
          method: 'signVote',
          key: ADDRESS,
          chainId: '1337',
          vote: { type: 1, height: 1, round: 0, blockHash: null },
        }),
      ),
    )
    await c.closed
    other.socket.write(frame('{"id":2,"method":"ping"}'))
    expect(await other.next()).toEqual({ id: 2, result: {} })
    expect(await metric(s.registry, 'cairn_signer_dropped_connections_total', { reason: 'fault' })).toBe(1)
  })
})

describe('connections before TLS', () => {
  it('refuses an address past its cap at accept, closes a handshake that does not finish in time, and serves a validator meanwhile', async () => {
    const s = await start({ limits: { maxConnectionsPerIp: 4, handshakeTimeoutMs: 1_000 } })
    const t0 = Date.now()
    const flood = await Promise.all(Array.from({ length: 40 }, () => rawTcp(s.port, '127.0.0.2')))
    // Past the address's cap: closed as they arrive.
    await vi.waitFor(() => expect(flood.filter((f) => f.isClosed()).length).toBeGreaterThanOrEqual(36), {
      timeout: 5_000,
    })
    // A validator from another address connects and signs while the flood holds its four.
    const v = await remote(s.port, 'node1')
    expect(await v.signVote({ type: MsgType.PREVOTE, height: 1, round: 0, blockHash: block('A').hash })).toHaveProperty(
      'signature',
    )
    // A handshake trickled a byte at a time is cut at the same deadline: the bytes do not move it.
    const slow = await rawTcp(s.port, '127.0.0.3')
    slow.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))
    const drip = setInterval(() => slow.socket.write(Buffer.from([0])), 150)
    try {
      await vi.waitFor(() => expect(flood.every((f) => f.isClosed()) && slow.isClosed()).toBe(true), {
        timeout: 10_000,
        interval: 50,
      })
    } finally {
      clearInterval(drip)
    }
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(await metric(s.registry, 'cairn_signer_refused_connections_total', { reason: 'per_ip' })).toBe(36)
    expect(await metric(s.registry, 'cairn_signer_refused_connections_total', { reason: 'handshake_timeout' })).toBe(5)
    // Counted once, under the reason that closed them: none of them is also a failed handshake.
    expect(await metric(s.registry, 'cairn_signer_refused_connections_total', { reason: 'handshake' })).toBe(0)
  })
})

describe('sessions after TLS', () => {
  it('drops a half-sent frame after the frame deadline, so half-sent frames cannot hold every session', async () => {
    const s = await start({ limits: { maxSessions: 4, maxSessionsPerClient: 2, frameTimeoutMs: 500 } })
    const held: RawClient[] = []
    for (const who of ['node1', 'node1']) held.push(await rawTls(s.port, who))
    // A third session of one client is refused.
    const third = await rawTls(s.port, 'node1')
    await third.closed
    for (const who of ['node2', 'node2']) held.push(await rawTls(s.port, who))
    // Every session is taken: another client is refused.
    const fifth = await rawTls(s.port, 'node3')
    await fifth.closed
    // Each sends half a frame: past the deadline every half-sent frame is dropped with its connection.
    for (const h of held) h.socket.write(frame('x'.repeat(1_000)).subarray(0, 14))
    await Promise.all(held.map((h) => h.closed))
    const v = await remote(s.port, 'node3')
    expect(await v.signVote({ type: MsgType.PREVOTE, height: 1, round: 0, blockHash: block('A').hash })).toHaveProperty(
      'signature',
    )
    expect(await metric(s.registry, 'cairn_signer_rejected_frames_total', { reason: 'timeout' })).toBe(4)
    expect(await metric(s.registry, 'cairn_signer_refused_connections_total', { reason: 'per_client' })).toBe(1)
    expect(await metric(s.registry, 'cairn_signer_refused_connections_total', { reason: 'limit' })).toBe(1)
  })

  it('stops reading a client that does not take its answers, and closes it when it never does', async () => {
    // 200 transaction keys make each `keys` answer ~9 KB: 10,000 requests would be 90 MB of answers.
    const txKeys = Array.from({ length: 200 }, (_, i) => {
      const k = new Uint8Array(32)
      k[0] = 0x42
      k[30] = i >> 8
      k[31] = (i & 0xff) + 1
      return k
    })
    const s = await start({ limits: { maxBufferedBytes: 256 * 1024, stallTimeoutMs: 2_000 } }, { txKeys })
    const sink = await rawTls(s.port, 'node1', { read: false })
    const N = 10_000
    sink.socket.write(Buffer.concat(Array.from({ length: N }, (_, i) => frame(`{"id":${i},"method":"keys"}`))))
    const rssBefore = process.memoryUsage().rss
    // Meanwhile another client is answered at once.
    const other = await rawTls(s.port, 'node2')
    other.socket.write(frame('{"id":1,"method":"ping"}'))
    expect(await other.next()).toEqual({ id: 1, result: {} })
    // The signer stops reading it past the bound, and closes it once the stall timeout passes.
    await vi.waitFor(
      async () =>
        expect(await metric(s.registry, 'cairn_signer_dropped_connections_total', { reason: 'slow_reader' })).toBe(1),
      { timeout: 20_000, interval: 100 },
    )
    const answered = await metric(s.registry, 'cairn_signer_requests_total', { method: 'keys', outcome: 'ok' })
    expect(answered).toBeLessThan(N / 4)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024)
    // The client, reading at last, finds what was sent before the close, and the close.
    sink.socket.on('data', () => {})
    sink.socket.resume()
    await sink.closed
  }, 60_000)
})

describe('heights', () => {
  it('refuses a height far ahead of the last one signed without recording it, and heights past 2^53 - 1 at the edge', async () => {
    const s = await start({ maxHeightJump: 1_000 })
    const v = await remote(s.port, 'node1')
    const A = block('A').hash
    expect(await v.signVote({ type: MsgType.PRECOMMIT, height: 100, round: 0, blockHash: A })).toHaveProperty(
      'signature',
    )
    const far = await v.signVote({ type: MsgType.PRECOMMIT, height: Number.MAX_SAFE_INTEGER, round: 0, blockHash: A })
    expect(far).toMatchObject({ refused: expect.stringMatching(/ahead/) })
    const farProposal = await v.signProposal({
      height: 5_000,
      round: 0,
      polRound: -1,
      blockHash: A,
      block: new Uint8Array(),
    })
    expect(farProposal).toHaveProperty('refused')
    expect(s.store.load(CHAIN, ADDRESS)?.height).toBe(100)
    // The next heights still sign, up to the bound.
    expect(await v.signVote({ type: MsgType.PRECOMMIT, height: 101, round: 0, blockHash: A })).toHaveProperty(
      'signature',
    )
    expect(await v.signVote({ type: MsgType.PRECOMMIT, height: 1_101, round: 0, blockHash: A })).toHaveProperty(
      'signature',
    )
    // Past 2^53 - 1, or a round past 2^31 - 1: refused as a bad request, nothing recorded.
    const c = await rawTls(s.port, 'node2')
    const vote = (height: string, round = '0') =>
      `{"id":1,"method":"signVote","key":"${ADDRESS}","chainId":"1337","vote":{"type":2,"height":${height},"round":${round},"blockHash":null}}`
    for (const [height, round] of [
      ['9007199254740992', '0'],
      ['9007199254740993', '0'],
      ['1e300', '0'],
      ['2000', '2147483648'],
      ['-1', '0'],
    ] as const) {
      c.socket.write(frame(vote(height, round)))
      expect(await c.next()).toMatchObject({ error: { code: 'BAD_REQUEST' } })
    }
    expect(s.store.load(CHAIN, ADDRESS)?.height).toBe(1_101)
    expect(await v.signVote({ type: MsgType.PRECOMMIT, height: 1_102, round: 0, blockHash: A })).toHaveProperty(
      'signature',
    )
  })
})
