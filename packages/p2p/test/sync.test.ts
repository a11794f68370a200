import { Chain, devGenesis } from '@cairn/chain'
import { DevEngine } from '@cairn/consensus'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { describe, expect, it } from 'vitest'
import { ADDRS } from '../../chain/test/helpers.ts'
import { RangeSync } from '../src/sync.ts'
import { pastClock } from './helpers.ts'

async function devChain(): Promise<{ chain: Chain; engine: DevEngine }> {
  await initCrypto()
  const kv = new MemoryKV()
  await kv.open()
  const now = pastClock()
  const engine = new DevEngine({ blockTime: 0, coinbase: new Uint8Array(20).fill(7) }, { logger: silentLogger, now })
  const chain = await Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }) },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
  engine.attach({ chain, pool, follower: followChain(pool, chain.events, { logger: silentLogger }) })
  return { chain, engine }
}

/** The block with another state root: a valid header whose execution disagrees. */
function corrupt(bytes: Uint8Array): Uint8Array {
  const raw = RLP.decode(bytes) as Uint8Array[][]
  const header = [...(raw[0] as Uint8Array[])]
  header[3] = new Uint8Array(32).fill(1)
  return RLP.encode([header, ...raw.slice(1)])
}

describe('range sync from several peers', () => {
  it.each([
    ['whole batches', undefined],
    ['a block at a time (prepareBytes 1: every block its own chunk)', 1],
    ['in chunks of a few blocks, the first of one (prepareBytes 2,000)', 2000],
  ])('spreads batches over the peers, imports in order, and re-asks another peer for a batch that failed or was invalid; prepared %s', async (_, prepareBytes) => {
    const source = await devChain()
    for (let i = 0; i < 96; i++) await source.engine.seal()
    const { chain } = await devChain()
    const requests: { peer: string; start: bigint; count: number }[] = []
    const penalties: [string, string, string][] = []
    let flaky = true
    const sync = new RangeSync(
      { batch: 8, parallel: 3, ...(prepareBytes !== undefined ? { prepareBytes } : {}) },
      {
        chain,
        logger: silentLogger,
        metrics: null,
        peers: () => ['good', 'liar', 'flaky'].map((id) => ({ id, headNumber: 96n })),
        fetchRange: async (peer, start, count) => {
          requests.push({ peer, start, count })
          await Promise.resolve()
          if (peer === 'flaky' && flaky) {
            flaky = false
            throw new Error('reset')
          }
          const out: Uint8Array[] = []
          for (let n = start; n < start + BigInt(count); n++) {
            const b = (await source.chain.getBlockByNumber(n))?.serialize() as Uint8Array
            out.push(peer === 'liar' ? corrupt(b) : b)
          }
          return out
        },
        penalize: (peer, action, reason) => penalties.push([peer, action, reason]),
      },
    )
    sync.trigger()
    expect(sync.progress()).toEqual({ startingBlock: 0n, highestBlock: 96n })
    await sync.settled()
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(source.chain.head.hash()))
    expect(sync.progress()).toBeNull()
    // All three were asked at first; the liar was penalised once (fatal) and never asked again.
    expect(new Set(requests.slice(0, 3).map((r) => r.peer))).toEqual(new Set(['good', 'liar', 'flaky']))
    expect(penalties).toContainEqual(['liar', 'fatal', 'sync_CHAIN_EXECUTION_MISMATCH'])
    expect(penalties).toContainEqual(['flaky', 'mid', 'sync_request_failed'])
    expect(penalties, JSON.stringify(penalties)).toHaveLength(2)
    const liarStarts = requests.filter((r) => r.peer === 'liar').map((r) => r.start)
    // Every range the liar or the flaky peer was asked for was asked again of the good peer.
    for (const r of requests.filter((q) => q.peer !== 'good')) {
      expect(requests.some((q) => q.peer === 'good' && q.start === r.start)).toBe(true)
    }
    expect(liarStarts.length).toBeGreaterThan(0)
    // Each block number was imported once: every range is covered, in order, by good answers.
    const served = requests.filter((r) => r.peer === 'good').sort((a, b) => Number(a.start - b.start))
    let next = 1n
    for (const r of served) {
      expect(r.start).toBe(next)
      next += BigInt(r.count)
    }
    expect(next).toBe(97n)
  })

  it('a run that left out the only peer ahead (a failed request) is followed by another, later each time it imports nothing', async () => {
    const source = await devChain()
    for (let i = 0; i < 40; i++) await source.engine.seal()
    const { chain } = await devChain()
    const timers: { fn: () => void; ms: number }[] = []
    // Every request fails until the second retry: two runs in a row import nothing.
    let retries = 0
    const sync = new RangeSync(
      { batch: 16, parallel: 2, retryMs: 1000 },
      {
        chain,
        logger: silentLogger,
        metrics: null,
        peers: () => [{ id: 'only', headNumber: 40n }],
        fetchRange: async (_peer, start, count) => {
          await Promise.resolve()
          if (retries < 2) throw new Error('timeout')
          const out: Uint8Array[] = []
          for (let n = start; n < start + BigInt(count); n++) {
            out.push((await source.chain.getBlockByNumber(n))?.serialize() as Uint8Array)
          }
          return out
        },
        penalize: () => {},
        setTimeout: (fn, ms) => timers.push({ fn, ms }),
        clearTimeout: () => {},
      },
    )
    const delays: number[] = []
    sync.trigger()
    await sync.settled()
    // The peer was left out of each failed run; nothing else would start the next one.
    while (chain.head.header.number < 40n) {
      const t = timers.shift()
      if (!t) throw new Error(`sync stalled at ${chain.head.header.number} with no retry scheduled`)
      delays.push(t.ms)
      retries++
      t.fn()
      await sync.settled()
    }
    expect(delays).toEqual([1000, 2000])
    expect(timers).toEqual([])
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(source.chain.head.hash()))
  })
})
