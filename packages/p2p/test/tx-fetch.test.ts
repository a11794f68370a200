import { Chain, devGenesis, type SenderRecovery } from '@cairn/chain'
import { DevEngine } from '@cairn/consensus'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '@cairn/txpool'
import { silentLogger } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { describe, expect, it, vi } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import type { TxAnnouncement } from '../src/codec.ts'
import { MAX_TX_REQUEST, TxFetcher } from '../src/tx-fetch.ts'

async function setup(
  serve: (peer: string, hashes: Uint8Array[]) => Uint8Array[],
  recovery?: SenderRecovery,
  connected?: (peer: string) => boolean,
) {
  await initCrypto()
  const kv = new MemoryKV()
  await kv.open()
  const chain = await Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }) },
    {
      kv,
      engine: new DevEngine({ blockTime: 0, coinbase: new Uint8Array(20) }, { logger: silentLogger }),
      logger: silentLogger,
      metrics: null,
      customCrypto: createCustomCrypto(),
    },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    {
      stateAt: (root) => chain.stateAt(root),
      head: chain.head.header,
      logger: silentLogger,
      metrics: null,
      ...(recovery ? { recovery } : {}),
    },
  )
  const requests: { peer: string; hashes: Uint8Array[] }[] = []
  const penalties: [string, string, string][] = []
  const fetcher = new TxFetcher({
    chain,
    pool,
    logger: silentLogger,
    request: async (peer, hashes) => {
      requests.push({ peer, hashes })
      return serve(peer, hashes)
    },
    penalize: (peer, action, reason) => penalties.push([peer, action, reason]),
    ...(connected ? { connected } : {}),
  })
  return { chain, pool, fetcher, requests, penalties }
}

const txs = (chain: Chain, n: number) =>
  Array.from({ length: n }, (_, i) =>
    transfer(chain.common, KEYS[0] as Uint8Array, BigInt(i), ADDRS[1] as `0x${string}`, 1n),
  )
const ann = (tx: TypedTransaction, o: Partial<TxAnnouncement> = {}): TxAnnouncement => ({
  type: tx.type,
  size: tx.serialize().length,
  hash: tx.hash(),
  ...o,
})

describe('eth/68 transaction fetcher', () => {
  it('asks a failed request again of the announcer (after 1, 2, 4 s), and not after stop', async () => {
    let failures = 2
    const byHash = new Map<string, Uint8Array>()
    const s = await setup((_p, hashes) => {
      if (failures-- > 0) throw new Error('stream reset')
      return hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((b): b is Uint8Array => !!b)
    })
    const [tx] = txs(s.chain, 1) as [TypedTransaction]
    byHash.set(Buffer.from(tx.hash()).toString('hex'), tx.serialize())
    vi.useFakeTimers({ toFake: ['setTimeout'] })
    try {
      s.fetcher.announced('a', [ann(tx)])
      await s.fetcher.settled()
      expect(s.pool.size).toBe(0)
      await vi.advanceTimersByTimeAsync(1000)
      await s.fetcher.settled()
      expect(s.pool.size).toBe(0)
      await vi.advanceTimersByTimeAsync(2000)
      await s.fetcher.settled()
      expect(s.pool.size).toBe(1)
      expect(s.requests.map((r) => r.peer)).toEqual(['a', 'a', 'a'])
      // A stopped fetcher schedules nothing more.
      failures = 1
      const [, other] = txs(s.chain, 2) as [TypedTransaction, TypedTransaction]
      s.fetcher.announced('b', [ann(other)])
      await s.fetcher.settled()
      s.fetcher.stop()
      await vi.advanceTimersByTimeAsync(10_000)
      await s.fetcher.settled()
      expect(s.requests.length).toBe(4)
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not ask a peer that disconnected again (a request would dial it, past a partition)', async () => {
    let up = true
    const s = await setup(
      () => {
        up = false
        throw new Error('stream reset: the peer hung up')
      },
      undefined,
      () => up,
    )
    const [tx] = txs(s.chain, 1) as [TypedTransaction]
    vi.useFakeTimers({ toFake: ['setTimeout'] })
    try {
      s.fetcher.announced('a', [ann(tx)])
      await s.fetcher.settled()
      await vi.advanceTimersByTimeAsync(10_000)
      await s.fetcher.settled()
      expect(s.requests.map((r) => r.peer)).toEqual(['a'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('fetches what it lacks once, in requests of at most 256, and admits matching bodies', async () => {
    const byHash = new Map<string, Uint8Array>()
    const s = await setup((_p, hashes) =>
      hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((b): b is Uint8Array => !!b),
    )
    const list = txs(s.chain, 300)
    for (const t of list) byHash.set(Buffer.from(t.hash()).toString('hex'), t.serialize())
    s.fetcher.announced(
      'a',
      list.map((t) => ann(t)),
    )
    // The same hashes from another peer while in flight: not asked again.
    s.fetcher.announced(
      'b',
      list.slice(0, 10).map((t) => ann(t)),
    )
    await s.fetcher.settled()
    expect(s.requests.map((r) => [r.peer, r.hashes.length])).toEqual([
      ['a', MAX_TX_REQUEST],
      ['a', 300 - MAX_TX_REQUEST],
    ])
    expect(s.pool.size).toBe(300)
    expect(s.penalties).toEqual([])
    // Known now: a new announcement asks for nothing.
    s.fetcher.announced(
      'b',
      list.map((t) => ann(t)),
    )
    await s.fetcher.settled()
    expect(s.requests).toHaveLength(2)
  })

  it('penalises an announcer whose body differs in size or type, or was not asked for; drops the body', async () => {
    let extra: Uint8Array | undefined
    const s = await setup((_p, hashes) => {
      const out = hashes.map((h) => bodies.get(Buffer.from(h).toString('hex')) as Uint8Array)
      return extra ? [...out, extra] : out
    })
    const list = txs(s.chain, 3)
    const bodies = new Map(list.map((t) => [Buffer.from(t.hash()).toString('hex'), t.serialize()]))
    const [t0, t1, t2] = list as [TypedTransaction, TypedTransaction, TypedTransaction]
    s.fetcher.announced('liar', [ann(t0, { size: 999 })])
    await s.fetcher.settled()
    s.fetcher.announced('liar2', [ann(t0, { type: 0 })])
    await s.fetcher.settled()
    expect(s.penalties).toEqual([
      ['liar', 'low', 'tx_announce_mismatch'],
      ['liar2', 'low', 'tx_announce_mismatch'],
    ])
    expect(s.pool.size).toBe(0)
    // An honest announcement of it afterwards is fetched (a mismatch is not remembered).
    s.fetcher.announced('honest', [ann(t0)])
    await s.fetcher.settled()
    expect(s.pool.size).toBe(1)
    // A body that was not asked for.
    extra = transfer(s.chain.common, KEYS[2] as Uint8Array, 0n, ADDRS[0] as `0x${string}`, 1n).serialize()
    s.fetcher.announced('stuffer', [ann(t1)])
    await s.fetcher.settled()
    expect(s.penalties.at(-1)).toEqual(['stuffer', 'low', 'tx_unrequested'])
    // The bodies before the unrequested one were admitted (t1), as before.
    expect(s.pool.get(t1.hash())).toBeDefined()
    expect(s.pool.size).toBe(2)
    // Blob transactions and oversize ones are never asked for.
    extra = undefined
    s.fetcher.announced('x', [ann(t2, { type: 3 }), ann(t2, { size: 200_000 })])
    await s.fetcher.settled()
    expect(s.requests.filter((r) => r.peer === 'x')).toEqual([])
  })

  it("recovers an answer's senders in one request to the recovery workers, then admits the bodies as before", async () => {
    const byHash = new Map<string, Uint8Array>()
    // Records how many keys each request would recover (the worker recovery skips seeded ones).
    const requests: number[] = []
    const recovery: SenderRecovery = {
      async prepare(list) {
        const fresh = list.filter((t) => t.cache.senderPubKey === undefined)
        if (fresh.length > 0) requests.push(fresh.length)
        for (const t of fresh) t.getSenderPublicKey() // caches it on the (frozen) transaction
      },
    }
    const s = await setup(
      (_p, hashes) => hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((b): b is Uint8Array => !!b),
      recovery,
    )
    const list = txs(s.chain, 40)
    for (const t of list) byHash.set(Buffer.from(t.hash()).toString('hex'), t.serialize())
    s.fetcher.announced(
      'a',
      list.map((t) => ann(t)),
    )
    await s.fetcher.settled()
    expect(requests).toEqual([40])
    expect(s.pool.size).toBe(40)
    expect(s.pool.counts).toEqual({ pending: 40, queued: 0 })
    expect(s.penalties).toEqual([])
  })

  it('admits the bodies an announcement carries without a request, with the same checks; fetches the rest', async () => {
    const byHash = new Map<string, Uint8Array>()
    const s = await setup((_p, hashes) =>
      hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))).filter((b): b is Uint8Array => !!b),
    )
    const list = txs(s.chain, 6)
    for (const t of list) byHash.set(Buffer.from(t.hash()).toString('hex'), t.serialize())
    const [t0, t1, t2, t3, t4, t5] = list as [
      TypedTransaction,
      TypedTransaction,
      TypedTransaction,
      TypedTransaction,
      TypedTransaction,
      TypedTransaction,
    ]
    // Carried: admitted with no request; the same announcement's bare ones are fetched.
    s.fetcher.announced('a', [ann(t0, { body: t0.serialize() }), ann(t1, { body: t1.serialize() }), ann(t2)])
    await s.fetcher.settled()
    expect(s.requests.map((r) => r.hashes.length)).toEqual([1])
    expect([t0, t1, t2].every((t) => s.pool.get(t.hash()) !== undefined)).toBe(true)
    expect(s.penalties).toEqual([])
    // Carried again by another peer: known, neither decoded nor asked for.
    s.fetcher.announced('b', [ann(t0, { body: t0.serialize() })])
    await s.fetcher.settled()
    expect(s.requests).toHaveLength(1)
    // A carried body that is not the announced transaction, or differs from its announced size:
    // the announcer is penalised and the body dropped, as for a fetched answer.
    s.fetcher.announced('liar', [ann(t3, { body: t4.serialize() })])
    await s.fetcher.settled()
    s.fetcher.announced('liar2', [ann(t4, { body: t4.serialize(), size: 1 })])
    await s.fetcher.settled()
    expect(s.penalties).toEqual([
      ['liar', 'low', 'tx_unrequested'],
      ['liar2', 'low', 'tx_announce_mismatch'],
    ])
    expect(s.pool.get(t3.hash())).toBeUndefined()
    expect(s.pool.get(t4.hash())).toBeUndefined()
    // An undecodable carried body is the announcer's fault too.
    s.fetcher.announced('junk', [ann(t5, { body: new Uint8Array([2, 0xc1, 0x80]) })])
    await s.fetcher.settled()
    expect(s.penalties.at(-1)).toEqual(['junk', 'low', 'bad_tx_body'])
    expect(s.requests).toHaveLength(1)
  })
})
