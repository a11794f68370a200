import { devGenesis } from '@cairn/chain'
import type { Hex } from '@cairn/utils'
import { bytesToHex, createAddressFromString, privateToAddress } from '@ethereumjs/util'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from '../../chain/test/helpers.ts'
import { createTxPoolMetrics, SLOT_SIZE, TxPoolErrorCode } from '../src/index.ts'
import { expectRejected, GWEI, poolOn } from './helpers.ts'

/** Eight funded senders. */
const EXTRA = [0x31, 0x32, 0x33, 0x34, 0x35].map((b) => Uint8Array.from(Buffer.alloc(32, b)))
const SENDERS = [...KEYS, ...EXTRA]
const ADDRESSES = SENDERS.map((k) => bytesToHex(privateToAddress(k)) as Hex)
const [A1] = ADDRS.slice(1) as [Hex]
const key = (i: number) => SENDERS[i] as Uint8Array

async function setupMany(opts: Parameters<typeof poolOn>[1] = {}, now?: () => number) {
  const chain = await openChain(undefined, devGenesis({ accounts: ADDRESSES }))
  const metrics = createTxPoolMetrics(new Registry())
  const pool = poolOn(chain, opts, metrics)
  if (now) Object.assign((pool as unknown as { modules: object }).modules, { now })
  return { chain, pool, common: chain.common, metrics }
}

/** A 1559 transfer paying `tipGwei` (fee cap 100 gwei, so the effective tip is the tip). */
function paying(common: Parameters<typeof transfer>[0], sender: number, nonce: bigint, tipGwei: bigint, extra = {}) {
  return transfer(common, key(sender), nonce, A1, 1n, {
    maxFeePerGas: 100n * GWEI,
    maxPriorityFeePerGas: tipGwei * GWEI,
    ...extra,
  })
}

async function evicted(metrics: ReturnType<typeof createTxPoolMetrics>): Promise<Record<string, number>> {
  const v = await metrics.evicted.get()
  return Object.fromEntries(v.values.map((x) => [x.labels.reason as string, x.value]))
}

describe('global limits and eviction', () => {
  it('pending full: a better-paying tx evicts the cheapest (with its later nonces); one no better is refused', async () => {
    const { pool, common, metrics } = await setupMany({ globalSlots: 4, globalQueue: 4 })
    const cheap0 = paying(common, 0, 0n, 1n)
    const cheap1 = paying(common, 0, 1n, 5n) // descendant of the cheapest: leaves with it
    const mid = paying(common, 1, 0n, 3n)
    const high = paying(common, 2, 0n, 4n)
    for (const tx of [cheap0, cheap1, mid, high]) await pool.add(tx, { source: 'local' })
    expect(pool.counts).toEqual({ pending: 4, queued: 0 })

    // the same price as the cheapest (1 gwei): no better, refused
    await expectRejected(
      pool.add(paying(common, 3, 0n, 1n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    expect(pool.size).toBe(4)

    const better = paying(common, 3, 0n, 2n)
    await pool.add(better, { source: 'local' })
    expect(pool.get(cheap0.hash())).toBeUndefined()
    expect(pool.get(cheap1.hash())).toBeUndefined()
    for (const tx of [mid, high, better]) expect(pool.get(tx.hash())).toBe(tx)
    expect(pool.counts).toEqual({ pending: 3, queued: 0 })
    expect(await evicted(metrics)).toEqual({ full: 2 })
  })

  it('eviction class: a remote transaction evicts only remote ones; a local one may evict either', async () => {
    const { pool, common } = await setupMany({ globalSlots: 3, globalQueue: 4 })
    const localCheap = paying(common, 0, 0n, 1n)
    const remoteCheap = paying(common, 1, 0n, 2n)
    const localMid = paying(common, 2, 0n, 3n)
    await pool.add(localCheap, { source: 'local' })
    await pool.add(remoteCheap, { source: 'remote', peer: 'peer-a' })
    await pool.add(localMid, { source: 'local' })
    // A remote one paying more than both cheap ones: it passes over the cheaper local one and
    // takes the remote one's place.
    const remoteHigh = paying(common, 3, 0n, 5n)
    await pool.add(remoteHigh, { source: 'remote', peer: 'peer-b' })
    expect(pool.get(remoteCheap.hash())).toBeUndefined()
    expect(pool.get(localCheap.hash())).toBe(localCheap)
    // Paying more than both local ones but less than the remote one: nothing it may evict.
    await expectRejected(
      pool.add(paying(common, 4, 0n, 4n), { source: 'remote', peer: 'peer-c' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    expect(pool.size).toBe(3)
    // A local one evicts the cheapest whatever its class.
    const localHigh = paying(common, 5, 0n, 6n)
    await pool.add(localHigh, { source: 'local' })
    expect(pool.get(localCheap.hash())).toBeUndefined()
    for (const tx of [localMid, remoteHigh, localHigh]) expect(pool.get(tx.hash())).toBe(tx)
    // The spared entries went back on the heap: the next eviction still finds the cheapest.
    await pool.add(paying(common, 6, 0n, 7n), { source: 'local' })
    expect(pool.get(localMid.hash())).toBeUndefined()
  })

  it('a gapped transaction never evicts a pending one', async () => {
    const { pool, common } = await setupMany({ globalSlots: 2, globalQueue: 1 })
    await pool.add(paying(common, 0, 0n, 1n), { source: 'local' })
    await pool.add(paying(common, 1, 0n, 1n), { source: 'local' })
    await pool.add(paying(common, 2, 5n, 1n), { source: 'local' }) // queued: fills globalQueue
    // a much better gapped tx: may only evict the queued one, never the cheap pending ones
    const gapped = paying(common, 3, 3n, 50n)
    await pool.add(gapped, { source: 'local' })
    expect(pool.counts).toEqual({ pending: 2, queued: 1 })
    expect(pool.get(gapped.hash())).toBe(gapped)
    // now the only queued tx pays 50: another gapped tx at 40 is refused although pending pays 1
    await expectRejected(
      pool.add(paying(common, 4, 3n, 40n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    expect(pool.counts).toEqual({ pending: 2, queued: 1 })
  })

  it('an account at its guaranteed slots cannot push others out of a full pool', async () => {
    const { pool, common } = await setupMany({ globalSlots: 4, accountSlots: 2 })
    await pool.add(paying(common, 0, 0n, 1n), { source: 'local' })
    await pool.add(paying(common, 0, 1n, 1n), { source: 'local' })
    await pool.add(paying(common, 1, 0n, 1n), { source: 'local' })
    await pool.add(paying(common, 1, 1n, 1n), { source: 'local' })
    // sender 0 has 2 pending (= accountSlots): its next one is refused even at a high tip
    await expectRejected(
      pool.add(paying(common, 0, 2n, 90n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    // a sender with nothing pending evicts the cheapest (one of the 1-gwei txs, with its later nonce)
    await pool.add(paying(common, 2, 0n, 90n), { source: 'local' })
    expect(pool.counts.pending).toBe(3)
  })

  it('evicts by effective tip at the next base fee: a low fee cap loses to a higher tip', async () => {
    const { pool, common, chain } = await setupMany({ globalSlots: 2, minTip: 0n })
    const baseFee = chain.head.header.calcNextBaseFee() // 0.875 gwei
    // tip 5 gwei but cap 1 gwei: effective tip = 1 - 0.875 = 0.125 gwei
    const capped = transfer(common, key(0), 0n, A1, 1n, { maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI })
    const plain = paying(common, 1, 0n, 1n)
    await pool.add(capped, { source: 'local' })
    await pool.add(plain, { source: 'local' })
    expect(baseFee).toBe((GWEI * 7n) / 8n)
    await pool.add(paying(common, 2, 0n, 1n, { maxPriorityFeePerGas: GWEI / 2n }), { source: 'local' })
    expect(pool.get(capped.hash())).toBeUndefined()
    expect(pool.get(plain.hash())).toBe(plain)
  })

  it('slots are 32 KB: a 40 KB transaction takes two', async () => {
    const { pool, common } = await setupMany({ globalSlots: 3 })
    const big = paying(common, 0, 0n, 5n, { data: new Uint8Array(40_000), gasLimit: 2_000_000n })
    expect(big.serialize().length).toBeGreaterThan(SLOT_SIZE)
    await pool.add(big, { source: 'local' })
    expect(pool.slots).toEqual({ pending: 2, queued: 0 })
    await pool.add(paying(common, 1, 0n, 5n), { source: 'local' })
    expect(pool.slots.pending).toBe(3)
    // one more 1-slot tx at 5 gwei is no better than the cheapest: full
    await expectRejected(
      pool.add(paying(common, 2, 0n, 5n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
  })

  it('promotion waits for room: a gap filled in a full pool leaves the rest queued until a block frees slots', async () => {
    const { pool, common, chain } = await setupMany({ globalSlots: 2, globalQueue: 4 })
    const t0 = paying(common, 0, 0n, 5n)
    const t1 = paying(common, 0, 1n, 5n)
    const t2 = paying(common, 0, 2n, 5n)
    const t3 = paying(common, 0, 3n, 5n)
    await pool.add(t2, { source: 'local' })
    await pool.add(t3, { source: 'local' })
    await pool.add(t0, { source: 'local' })
    expect(pool.counts).toEqual({ pending: 1, queued: 2 })
    await pool.add(t1, { source: 'local' }) // fills the gap: t1 fits, t2 and t3 wait for room
    expect(pool.counts).toEqual({ pending: 2, queued: 2 })
    const c = pool.contentFrom(createAddressFromString(ADDRESSES[0] as Hex))
    expect(c.pending).toEqual([t0, t1])
    expect(c.queued).toEqual([t2, t3])
    const { block } = await buildAndImport(chain, [t0, t1])
    await pool.onNewHead(block)
    expect(pool.counts).toEqual({ pending: 2, queued: 0 })
    expect(pool.contentFrom(createAddressFromString(ADDRESSES[0] as Hex)).pending).toEqual([t2, t3])
  })
})

describe('per-account queue', () => {
  it('account limit exceeded: more gapped transactions than accountQueue', async () => {
    const { pool, common } = await setupMany({ accountQueue: 3 })
    for (const n of [2n, 3n, 4n]) await pool.add(paying(common, 0, n, 1n), { source: 'local' })
    await expectRejected(
      pool.add(paying(common, 0, 5n, 1n), { source: 'local' }),
      TxPoolErrorCode.ACCOUNT_LIMIT,
      'account limit exceeded',
    )
    // executable ones are not limited by the queue
    await pool.add(paying(common, 0, 0n, 1n), { source: 'local' })
    await pool.add(paying(common, 0, 1n, 1n), { source: 'local' })
    expect(pool.counts).toEqual({ pending: 5, queued: 0 })
  })
})

describe('queued expiry', () => {
  it('drops the queued transactions of an account idle for longer than lifetime, keeps its pending ones', async () => {
    let now = 1_000_000
    const { pool, common, metrics } = await setupMany({ lifetime: 3 * 3600 }, () => now)
    const p0 = paying(common, 0, 0n, 1n)
    const q2 = paying(common, 0, 2n, 1n)
    const other = paying(common, 1, 4n, 1n)
    await pool.add(p0, { source: 'local' })
    await pool.add(q2, { source: 'local' })
    now += 2 * 3600 * 1000
    await pool.add(other, { source: 'local' }) // sender 1 is active later
    now += 3600 * 1000 + 1 // sender 0 idle 3 h + 1 ms, sender 1 idle 1 h
    expect(pool.expireQueued()).toBe(1)
    expect(pool.get(q2.hash())).toBeUndefined()
    expect(pool.get(p0.hash())).toBe(p0)
    expect(pool.get(other.hash())).toBe(other)
    expect(await evicted(metrics)).toEqual({ expired: 1 })
    now += 2 * 3600 * 1000
    expect(pool.expireQueued()).toBe(1)
    expect(pool.counts).toEqual({ pending: 1, queued: 0 })
  })
})

describe('new heads', () => {
  it('drops what the account can no longer pay after its balance fell (counting earlier nonces)', async () => {
    const { pool, common, chain } = await setupMany()
    const ETH = 10n ** 18n
    const a = transfer(common, key(0), 1n, A1, 4000n * ETH)
    const b = transfer(common, key(0), 2n, A1, 4000n * ETH)
    await pool.add(a, { source: 'local' })
    await pool.add(b, { source: 'local' })
    // a block elsewhere spends 5000 ETH with nonce 0: a (4000) still fits 5000, a + b (8000) do not
    const spend = transfer(common, key(0), 0n, A1, 5000n * ETH)
    const { block } = await buildAndImport(chain, [spend])
    await pool.onNewHead(block)
    expect(pool.get(a.hash())).toBe(a)
    expect(pool.get(b.hash())).toBeUndefined()
    expect(pool.counts).toEqual({ pending: 1, queued: 0 })
  })

  it('a head that includes a burst leaves no reference to its transactions in the eviction heaps', async () => {
    const { pool, common, chain } = await setupMany()
    const txs = []
    for (let n = 0n; n < 150n; n++) for (let s = 0; s < 8; s++) txs.push(paying(common, s, n, 1n))
    for (const tx of txs) await pool.add(tx, { source: 'local' })
    expect(pool.counts).toEqual({ pending: 1200, queued: 0 })
    const heaps = (pool as unknown as { index: { pendingHeap: { length: number }; queuedHeap: { length: number } } })
      .index
    expect(heaps.pendingHeap.length).toBeGreaterThanOrEqual(1200)
    const { block } = await buildAndImport(chain, txs)
    expect(block.transactions).toHaveLength(1200)
    await pool.onNewHead(block)
    expect(pool.size).toBe(0)
    expect(heaps.pendingHeap.length).toBe(0)
    expect(heaps.queuedHeap.length).toBe(0)
  })

  it('a head update re-reads only the senders of the block (others keep their cached state)', async () => {
    const { pool, common, chain } = await setupMany()
    for (let s = 0; s < 6; s++) await pool.add(paying(common, s, 0n, 1n), { source: 'local' })
    const reads: string[] = []
    const modules = (pool as unknown as { modules: { stateAt: (r: Uint8Array) => unknown } }).modules
    const orig = modules.stateAt
    modules.stateAt = (root: Uint8Array) => {
      const reader = orig(root) as { getAccount(a: unknown): Promise<unknown> }
      return {
        getAccount: (a: { toString(): string }) => {
          reads.push(a.toString())
          return reader.getAccount(a)
        },
      }
    }
    const { block } = await buildAndImport(chain, [paying(common, 7, 0n, 1n)])
    await pool.onNewHead(block)
    expect(reads).toEqual([])
    const included = pool.contentFrom(createAddressFromString(ADDRESSES[2] as Hex)).pending
    const { block: next } = await buildAndImport(chain, included)
    await pool.onNewHead(next)
    expect(reads).toEqual([ADDRESSES[2]])
    expect(pool.size).toBe(5)
  })
})
