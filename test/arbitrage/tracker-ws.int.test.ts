// The pool tracker driven over a WebSocket subscription to a real Cairn dev node in this process
// (the node serves WebSocket on its RPC port), through a loopback TCP proxy the test can cut:
// new heads make it poll (no interval runs while the socket is live), a reorg's removed logs undo
// the dropped blocks, and while the socket is down the interval polls; once it is back the tracker
// reconciles with getReserves. Throughout, the tracker's reserves equal getReserves.

import type { AddressInfo } from 'node:net'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { createMetricsRegistry } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import { createPublicClient } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Address, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import { createArbMetrics } from '../../packages/arbitrage/src/metrics.ts'
import { ChainFeed } from '../../packages/arbitrage/src/pools/feed.ts'
import { type BlockUpdate, PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import { reconnectingWebSocket } from '../../packages/arbitrage/src/pools/ws-transport.ts'
import {
  addLiquidity,
  createPair,
  deployFactory,
  deployToken,
  reserves,
  startCairn,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'

const E18 = 10n ** 18n

/** A TCP proxy to `port` that the test can cut (existing connections destroyed, new ones refused). */
async function cuttableProxy(port: number) {
  const sockets = new Set<Socket>()
  let cut = false
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
    }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true
      for (const s of sockets) s.destroy()
    },
    heal() {
      cut = false
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

describe('pool tracker over a WebSocket subscription (Cairn dev node)', () => {
  let c: TestChain
  let factory: Address
  const pairs: { pair: Address; a: Address; b: Address }[] = []

  beforeAll(async () => {
    c = await startCairn()
    factory = await deployFactory(c)
    const tokens: Address[] = []
    for (let i = 0; i < 3; i++) tokens.push(await deployToken(c, 10n ** 12n * E18))
    for (const t of tokens) await transfer(c, 0, t, c.accounts[1]!.address.toLowerCase() as Address, 10n ** 9n * E18)
    for (const [i, j] of [
      [0, 1],
      [1, 2],
      [0, 2],
    ] as const) {
      const pair = await createPair(c, factory, tokens[i]!, tokens[j]!)
      await addLiquidity(c, pair, tokens[i]!, 1000n * E18, tokens[j]!, 1000n * E18 * BigInt(i + j + 1))
      pairs.push({ pair, a: tokens[i]!, b: tokens[j]! })
    }
  }, 120_000)
  afterAll(async () => {
    await c?.close()
  })

  it('heads drive the polls, removed logs undo, polling covers a dropped socket, reconnect reconciles', async () => {
    const graph = new TokenGraph({ base: pairs[0]!.a, maxHops: 3 })
    const tracker = new PoolTracker(
      { factories: [{ address: factory, fee: UNISWAP_V2_FEE }], reorgDepth: 64 },
      { client: c.pub, graph, logger: silentLogger },
    )
    await tracker.start()
    const proxy = await cuttableProxy(Number(new URL(c.url).port))
    const metrics = createArbMetrics(createMetricsRegistry({ version: 't', commit: 't' }))

    // the service's serialised tick, recording what each poll did; waiters re-check after each
    const updates: BlockUpdate[] = []
    const events: string[] = []
    let polls = 0
    let waiters: (() => void)[] = []
    const wake = () => {
      const w = waiters
      waiters = []
      for (const f of w) f()
    }
    let ticking: Promise<void> | null = null
    let again = false
    const tick = (): Promise<void> => {
      if (ticking) {
        again = true
        return ticking
      }
      ticking = (async () => {
        do {
          again = false
          updates.push(...(await tracker.poll()))
          polls++
        } while (again)
      })().finally(() => {
        ticking = null
        wake()
      })
      return ticking
    }
    const until = (what: string, ok: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`timed out waiting for ${what} (events: ${events})`)), 30_000)
        const check = () => {
          if (ok()) {
            clearTimeout(timeout)
            resolve()
          } else waiters.push(check)
        }
        check()
      })
    const head = async () => c.pub.getBlockNumber({ cacheTime: 0 })
    const synced = async () => {
      const n = await head()
      await until(`the tracker at block ${n}`, () => tracker.head?.number === n)
      for (const p of graph.allPools()) expect([p.reserve0, p.reserve1]).toEqual(await reserves(c, p.address))
    }

    // the interval is long: while the socket is live nothing but heads and removed logs ticks
    const feed = new ChainFeed(
      { pollMs: 60_000, ws: proxy.url, reconnect: { initialMs: 50, maxMs: 200 } },
      {
        tracker: {
          noteRemoved: (n, h) => {
            events.push(`removed ${n}`)
            tracker.noteRemoved(n, h)
          },
          requestReconcile: () => {
            events.push('reconcile')
            tracker.requestReconcile()
          },
        },
        logger: silentLogger,
        tick,
        metrics,
        onSubscription: (state) => {
          events.push(state)
          wake()
        },
      },
    )
    const gauge = async () => (await metrics.wsConnected.get()).values[0]?.value
    try {
      feed.start()
      await until('subscribed', () => feed.subscription === 'live')
      await tick()
      expect(await gauge()).toBe(1)

      // 1. swaps: each new head makes the tracker poll
      const p0 = pairs[0]!
      const p1 = pairs[1]!
      for (let k = 0; k < 3; k++) {
        const before = polls
        await swap(c, 1, p0.pair, k % 2 ? p0.a : p0.b, BigInt(k + 2) * E18)
        await synced()
        expect(polls).toBeGreaterThan(before)
      }

      // 2. a reorg: a branch the tracker applied, then reverted to the snapshot; the removed logs
      // undo it before any block of a new branch exists
      const snap = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
      const base = await head()
      await swap(c, 1, p1.pair, p1.a, 9n * E18)
      await swap(c, 1, p0.pair, p0.a, 4n * E18)
      await synced()
      expect(tracker.head!.number).toBe(base + 4n) // a swap is a transfer and a swap: two blocks
      const depthBefore = updates.filter((u) => u.reorgDepth).length
      expect(await c.pub.request({ method: 'evm_revert' as never, params: [snap] as never })).toBe(true)
      await until('the removed logs undone', () => events.some((e) => e.startsWith('removed')))
      await until('a poll after the removal', () => tracker.head?.number === base)
      expect(updates.filter((u) => u.reorgDepth).length).toBeGreaterThan(depthBefore)
      for (const p of graph.allPools()) expect([p.reserve0, p.reserve1]).toEqual(await reserves(c, p.address))
      // the new branch
      await swap(c, 1, p1.pair, p1.b, 5n * E18)
      await synced()

      // 3. the socket drops: down, polling at the interval meanwhile (a short one now), back up,
      // reconciled
      proxy.cut()
      await until('down', () => feed.subscription === 'down')
      expect(await gauge()).toBe(0)
      expect((await metrics.wsDisconnects.get()).values[0]?.value).toBe(1)
      const polling = new ChainFeed({ pollMs: 100, ws: null }, { tracker, logger: silentLogger, tick })
      polling.start()
      try {
        await swap(c, 1, p0.pair, p0.b, 6n * E18)
        await synced() // the interval, not a head, brought it
      } finally {
        await polling.close()
      }
      // a state the tracker cannot see from logs alone: its copy is damaged behind its back, as a
      // lost notification would leave it; the reconcile after the reconnect repairs it
      const victim = p1.pair.toLowerCase() as Address
      const [r0, r1] = await reserves(c, victim)
      graph.setReserves(victim, r0 + 1n, r1)
      proxy.heal()
      await until('up again', () => feed.subscription === 'live' && events.includes('reconcile'))
      await until('the reconcile polled', () => graph.pool(victim)!.reserve0 === r0)
      await synced()
      expect(await gauge()).toBe(1)
      // and heads drive it again
      await swap(c, 1, p1.pair, p1.a, 2n * E18)
      await synced()
    } finally {
      await feed.close()
      await proxy.close()
    }
  }, 180_000)

  it('calls over ws:// fail while the node is unreachable and succeed again once it is back', async () => {
    const proxy = await cuttableProxy(Number(new URL(c.url).port))
    const client = createPublicClient({ transport: reconnectingWebSocket(proxy.url, { timeoutMs: 5000 }) })
    try {
      const n = await c.pub.getBlockNumber({ cacheTime: 0 })
      expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(n)
      proxy.cut()
      // several calls fail while it stays away (viem's own transport stops trying after a few)
      for (let i = 0; i < 8; i++) await expect(client.getBlockNumber({ cacheTime: 0 })).rejects.toThrow()
      proxy.heal()
      expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(n)
      await expect(client.request({ method: 'eth_nope' as never })).rejects.toThrow(/not|exist|support/i)
    } finally {
      await proxy.close()
    }
  }, 60_000)
})
