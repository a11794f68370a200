// Read threads with listeners of their own (`--rpc.threads` where Node shares a port: reusePort,
// Node ≥ 22.12 on Linux; packages/node/src/rpc-threads/thread-server.ts). The kernel spreads
// connections over the main thread's listener and the thread's, so every request here goes on a
// connection of its own, and the node's merged /metrics (a `thread` label on what a thread
// answered) says that both listeners answered. Checked: a read on any connection right after a
// write is answered at the write's head (read-your-writes across listeners); a dev state edit
// (anvil_setBalance) is seen by both; random reads answered over HTTP equal the main thread's
// dispatcher; a WebSocket on the thread's listener gets its subscriptions' notifications; the rate
// limit is one window for the whole node, not one per listener; /ready and /metrics answer on both.

import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reusePortSupported } from '../../packages/node/src/rpc-threads/thread-count.ts'
import { ACCOUNT_0, deployer, STORE_RUNTIME } from './bytecode.ts'
import { type StartedNode, startDevNode, WsRpc } from './live-node.ts'

const ACCOUNT_1 = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const supported = reusePortSupported()
if (!supported) {
  console.warn(
    `read-listeners.int: skipped on Node ${process.version} (${process.platform}): a shared port (reusePort) needs Node ≥ 22.12 on Linux; CI runs this tier on Node 24 too`,
  )
}

interface Answer {
  status: number
  text: string
}

/** A request on a new TCP connection (no keep-alive): the kernel picks the listener each time. */
function fresh(url: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { connection: 'close' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent: false, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

const postFresh = (url: string, body: unknown) => fresh(url, body)
const getFresh = (url: string) => fresh(url)

let nextId = 1
const envelope = (method: string, params: unknown[]) => ({ jsonrpc: '2.0', id: nextId++, method, params })

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const a = await postFresh(url, envelope(method, params))
  const r = JSON.parse(a.text) as { result?: T; error?: unknown }
  if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`)
  return r.result as T
}

/** Requests answered per listener, from the merged /metrics: main (no `thread` label) and thread 1. */
async function answeredBy(url: string): Promise<{ main: number; thread: number }> {
  const page = (await getFresh(`${url}/metrics`)).text
  const sum = (re: RegExp) => [...page.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0)
  return {
    main: sum(/^cairn_rpc_requests_total\{method="[^"]+",code="[^"]+"\} (\d+)$/gm),
    thread: sum(/^cairn_rpc_requests_total\{method="[^"]+",code="[^"]+",thread="1"\} (\d+)$/gm),
  }
}

/** The node does not wait for its threads: resolves once thread 1 has bound the port too. */
async function listening(node: StartedNode): Promise<void> {
  await node.readThreads?.whenStarted()
  // A loaded CI machine may take seconds to open the chain on the thread.
  const deadline = Date.now() + 30_000
  while (!node.readThreads?.listeningThreads && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  expect(node.readThreads?.listeningThreads).toBe(1)
}

describe.skipIf(!supported)('read threads listening on the RPC port (reusePort)', () => {
  let node: StartedNode
  let dir: string
  let store: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-read-listeners-'))
    node = await startDevNode(
      {},
      { flags: { ephemeral: false, datadir: dir, 'rpc.threads': 1, 'metrics.port': 0, 'metrics.host': '127.0.0.1' } },
    )
    await listening(node)
    const hash = await rpc<string>(node.url, 'eth_sendTransaction', [
      { from: ACCOUNT_0, data: deployer(STORE_RUNTIME) },
    ])
    store = (await rpc<{ contractAddress: string }>(node.url, 'eth_getTransactionReceipt', [hash])).contractAddress
  }, 60_000)

  afterAll(async () => {
    await node?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('both listeners answer; a read on any connection right after a write sees the write', async () => {
    const before = await answeredBy(node.url)
    for (let i = 1; i <= 40; i++) {
      const hash = await rpc<string>(node.url, 'eth_sendTransaction', [
        { from: ACCOUNT_0, to: store, value: `0x${i.toString(16)}` },
      ])
      // Each read on a connection of its own, so the listener answering it is the kernel's pick.
      const [receipt, number, stored] = await Promise.all([
        rpc<{ blockNumber: string } | null>(node.url, 'eth_getTransactionReceipt', [hash]),
        rpc<string>(node.url, 'eth_blockNumber'),
        rpc<string>(node.url, 'eth_getStorageAt', [store, '0x0', 'latest']),
      ])
      expect(receipt, `receipt of write ${i}`).not.toBeNull()
      expect(BigInt(number)).toBeGreaterThanOrEqual(BigInt(receipt?.blockNumber ?? '0x0'))
      expect(BigInt(stored), `storage after write ${i}`).toBe(BigInt(i + 1)) // CALLVALUE + 1
    }
    const after = await answeredBy(node.url)
    expect(after.thread - before.thread, 'requests the thread answered').toBeGreaterThan(0)
    expect(after.main - before.main, 'requests the main thread answered').toBeGreaterThan(0)
  }, 60_000)

  it('a dev state edit (anvil_setBalance) is seen at once on every listener', async () => {
    for (let i = 1; i <= 10; i++) {
      const wei = `0x${(10n ** 18n * BigInt(i)).toString(16)}`
      await rpc(node.url, 'anvil_setBalance', [ACCOUNT_1, wei])
      const seen = await Promise.all(
        Array.from({ length: 6 }, () => rpc<string>(node.url, 'eth_getBalance', [ACCOUNT_1, 'latest'])),
      )
      expect(seen).toEqual(Array(6).fill(wei))
    }
  })

  it('random reads over HTTP answer what the main thread answers', async () => {
    const head = BigInt(await rpc<string>(node.url, 'eth_blockNumber'))
    const block = fc.bigInt({ min: 0n, max: head + 1n }).map((n) => `0x${n.toString(16)}`)
    const who = fc.constantFrom(ACCOUNT_0, ACCOUNT_1, store)
    const read = fc.oneof(
      fc.tuple(who, block).map((p) => ['eth_getBalance', p] as const),
      fc.tuple(who, block).map((p) => ['eth_getTransactionCount', p] as const),
      fc.tuple(who, block).map((p) => ['eth_getCode', p] as const),
      fc.tuple(block, fc.boolean()).map((p) => ['eth_getBlockByNumber', p] as const),
      fc
        .tuple(fc.bigInt({ min: 0n, max: 300n }), block)
        .map(([v, b]) => ['eth_call', [{ from: ACCOUNT_0, to: store, value: `0x${v.toString(16)}` }, b]] as const),
    )
    await fc.assert(
      fc.asyncProperty(read, async ([method, params]) => {
        const body = { jsonrpc: '2.0', id: 7, method, params }
        const [overHttp, onMain] = await Promise.all([
          postFresh(node.url, body),
          node.dispatcher.handleText(JSON.stringify(body)),
        ])
        expect(JSON.parse(overHttp.text)).toEqual(JSON.parse(onMain ?? 'null'))
      }),
      { numRuns: 100 },
    )
  })

  it("a WebSocket on the thread's listener gets its subscription's notifications, and unsubscribes on close", async () => {
    // Open sockets until one is on the thread's listener (the kernel's pick; each is one in two).
    const onThread = async (): Promise<WsRpc> => {
      const kept: WsRpc[] = []
      try {
        for (let i = 0; i < 64; i++) {
          const ws = await WsRpc.connect(node.url)
          const page = (await getFresh(`${node.url}/metrics`)).text
          const m = /^cairn_rpc_active_connections\{transport="ws",thread="1"\} (\d+)$/m.exec(page)
          if (Number(m?.[1] ?? 0) > 0) return ws
          kept.push(ws)
        }
        throw new Error('64 WebSocket connections all reached the main thread')
      } finally {
        await Promise.all(kept.map((k) => k.close()))
      }
    }
    const ws = await onThread()
    const sub = await ws.request('eth_subscribe', ['newHeads'])
    expect(typeof sub.result).toBe('string')
    const hash = await rpc<string>(node.url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: ACCOUNT_1, value: '0x1' }])
    const mined = await rpc<{ blockHash: string }>(node.url, 'eth_getTransactionReceipt', [hash])
    const note = await ws.next(
      (m) =>
        m.method === 'eth_subscription' && (m.params as { result: { hash: string } }).result.hash === mined.blockHash,
    )
    expect((note.params as { subscription: string }).subscription).toBe(sub.result)
    // Reads on the socket are the thread's own; a write on it goes to the main thread.
    expect((await ws.request('eth_chainId')).result).toBe('0x539')
    const sent = await ws.request('eth_sendTransaction', [{ from: ACCOUNT_0, to: ACCOUNT_1, value: '0x2' }])
    expect(typeof sent.result).toBe('string')
    const subscriptions = () => node.chain.events.listenerCount('newHead')
    const open = subscriptions()
    await ws.close()
    const deadline = Date.now() + 5000
    while (subscriptions() >= open && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(subscriptions()).toBe(open - 1)
  }, 60_000)

  it('/ready and /metrics answer on every listener (the node-wide checks, every thread merged), and so does --metrics.port', async () => {
    for (let i = 0; i < 8; i++) {
      const ready = await getFresh(`${node.url}/ready`)
      expect(ready.status).toBe(200)
      expect(JSON.parse(ready.text).status).toBe('ok')
      const page = (await getFresh(`${node.url}/metrics`)).text
      expect(page).toMatch(/^cairn_rpc_thread_up\{thread="1"\} 1$/m)
      expect(page).toMatch(/^cairn_rpc_requests_total\{method="eth_getBalance",code="0",thread="1"\} \d+$/m)
    }
    // The separate metrics listener (--metrics.port) serves the same merged page.
    const separate = (await getFresh(`${node.metricsUrl}/metrics`)).text
    expect(separate).toMatch(/^cairn_rpc_requests_total\{method="eth_getBalance",code="0",thread="1"\} \d+$/m)
  })
})

describe.skipIf(!supported)('read threads listening on the RPC port: one rate limit for the node', () => {
  it('an IP allowed 20 requests a window gets 20, whichever listeners its connections reach', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-read-listeners-rl-'))
    const node = await startDevNode(
      {},
      {
        flags: { ephemeral: false, datadir: dir, 'rpc.threads': 1, 'rateLimit.enabled': true, 'rateLimit.perIp': 20 },
      },
    )
    try {
      await listening(node)
      const statuses: number[] = []
      for (let i = 0; i < 40; i++) statuses.push((await postFresh(node.url, envelope('eth_chainId', []))).status)
      expect(statuses.filter((s) => s === 200)).toHaveLength(20)
      expect(statuses.filter((s) => s === 429)).toHaveLength(20)
      const page = (await getFresh(`${node.url}/metrics`)).text
      expect(page).toMatch(/^cairn_rpc_thread_up\{thread="1"\} 1$/m)
    } finally {
      await node.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
