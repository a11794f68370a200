import { type Chain, devGenesis } from '@cairn/chain'
import { bytesToHex, type CairnError, type Hex } from '@cairn/utils'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from '@ethereumjs/tx'
import { createAddressFromString } from '@ethereumjs/util'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, transfer } from '../../chain/test/helpers.ts'
import { createTxPoolMetrics, TxPoolErrorCode } from '../src/index.ts'
import { ETHER, expectRejected, GWEI, poolOn, setup } from './helpers.ts'

const [K0, K1, K2] = KEYS as [Uint8Array, Uint8Array, Uint8Array]
const [A0, A1, A2] = ADDRS as [Hex, Hex, Hex]

/** A signed, unfrozen 1559 transfer whose fields a test can then alter. */
function forged(common: Chain['common'], fees: { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint }) {
  return createFeeMarket1559Tx(
    { nonce: 0n, to: A1, gasLimit: 21000n, maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI, ...fees },
    { common, freeze: false },
  ).sign(K0)
}

describe('admission', () => {
  it('admits a valid transfer: returns its hash, get() finds it, emits added', async () => {
    const { pool, common } = await setup()
    const seen: unknown[] = []
    pool.events.on('added', (tx) => seen.push(tx))
    const tx = transfer(common, K0, 0n, A1, 1n)
    const hash = await pool.add(tx, { source: 'local' })
    expect(hash).toEqual(tx.hash())
    expect(pool.get(tx.hash())).toBe(tx)
    expect(pool.size).toBe(1)
    expect(seen).toEqual([tx])
  })

  it('admits legacy and access-list transactions', async () => {
    const { pool, common } = await setup()
    const legacy = createLegacyTx({ nonce: 0n, to: A1, gasLimit: 21000n, gasPrice: 2n * GWEI }, { common }).sign(K0)
    const al = createAccessList2930Tx(
      { nonce: 1n, to: A1, gasLimit: 21000n, gasPrice: 2n * GWEI, accessList: [] },
      { common },
    ).sign(K0)
    await pool.add(legacy, { source: 'local' })
    await pool.add(al, { source: 'local' })
    expect(pool.size).toBe(2)
    expect(await pool.pendingNonce(createAddressFromString(A0))).toBe(2n)
  })

  it('already known: the same transaction twice', async () => {
    const { pool, common } = await setup()
    const tx = transfer(common, K0, 0n, A1, 1n)
    await pool.add(tx, { source: 'local' })
    await expectRejected(pool.add(tx, { source: 'local' }), TxPoolErrorCode.ALREADY_KNOWN, 'already known')
    expect(pool.size).toBe(1)
  })

  it('already known is decided before the sender is recovered (a copy of a pooled transaction from another peer)', async () => {
    const { chain, common } = await setup()
    const prepared: string[] = []
    const pool = poolOn(chain, {}, null, {
      recovery: { prepare: async (txs) => void prepared.push(...txs.map((t) => bytesToHex(t.hash()))) },
    })
    const tx = transfer(common, K0, 0n, A1, 1n)
    await pool.add(tx, { source: 'remote', peer: 'a' })
    // the same transaction decoded again from another peer's message: a new object, same hash
    const copy = createTxFromRLP(tx.serialize(), { common })
    await expectRejected(
      pool.add(copy, { source: 'remote', peer: 'b' }),
      TxPoolErrorCode.ALREADY_KNOWN,
      'already known',
    )
    expect(prepared).toEqual([bytesToHex(tx.hash())])
  })

  it('nonce too low: after a block includes nonce 0', async () => {
    const { chain, pool, common } = await setup()
    const included = transfer(common, K0, 0n, A1, 1n)
    const { block } = await buildAndImport(chain, [included])
    await pool.onNewHead(block)
    // another nonce-0 transaction, and the included one itself
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A2, 5n), { source: 'local' }),
      TxPoolErrorCode.NONCE_TOO_LOW,
      'nonce too low',
    )
    await expectRejected(pool.add(included, { source: 'local' }), TxPoolErrorCode.NONCE_TOO_LOW, 'nonce too low')
    // nonce 1 is fine
    await pool.add(transfer(common, K0, 1n, A1, 1n), { source: 'local' })
    expect(pool.size).toBe(1)
  })

  it("insufficient funds: counts the sender's other pooled transactions", async () => {
    const { pool, common } = await setup()
    // each affordable alone (10 000 ETH in genesis), not together
    const first = transfer(common, K0, 0n, A1, 6000n * ETHER)
    const second = transfer(common, K0, 1n, A1, 6000n * ETHER)
    await pool.add(first, { source: 'local' })
    await expectRejected(
      pool.add(second, { source: 'local' }),
      TxPoolErrorCode.INSUFFICIENT_FUNDS,
      'insufficient funds for gas * price + value',
    )
    // another sender is not affected
    await pool.add(transfer(common, K1, 0n, A2, 6000n * ETHER), { source: 'local' })
    // a replacement is not counted twice with the transaction it replaces
    const bumped = transfer(common, K0, 0n, A1, 6000n * ETHER, {
      maxFeePerGas: 11n * GWEI,
      maxPriorityFeePerGas: 2n * GWEI,
    })
    await pool.add(bumped, { source: 'local' })
    expect(pool.get(first.hash())).toBeUndefined()
    expect(pool.size).toBe(2)
  })

  it('insufficient funds: a single transaction over the balance, and an unfunded sender', async () => {
    const { pool, common } = await setup()
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 10_000n * ETHER), { source: 'local' }), // value alone is the whole balance, plus gas
      TxPoolErrorCode.INSUFFICIENT_FUNDS,
      'insufficient funds for gas * price + value',
    )
    const unfunded = Uint8Array.from(Buffer.from('11'.repeat(32), 'hex'))
    await expectRejected(
      pool.add(transfer(common, unfunded, 0n, A1, 0n), { source: 'local' }),
      TxPoolErrorCode.INSUFFICIENT_FUNDS,
      'insufficient funds for gas * price + value',
    )
  })

  it('intrinsic gas too low', async () => {
    const { pool, common } = await setup()
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 1n, { gasLimit: 20_999n }), { source: 'local' }),
      TxPoolErrorCode.INTRINSIC_GAS,
      'intrinsic gas too low',
    )
    // calldata costs gas too: 21000 is not enough with 10 non-zero bytes
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 1n, { data: new Uint8Array(10).fill(1) }), { source: 'local' }),
      TxPoolErrorCode.INTRINSIC_GAS,
      'intrinsic gas too low',
    )
  })

  it('exceeds block gas limit', async () => {
    // Under EIP-7825's per-transaction cap (16,777,216 on Osaka), so that the block's limit decides.
    const genesis = { ...(devGenesis({ accounts: ADDRS }) as object), gasLimit: '0x989680' }
    const { chain, pool, common } = await setup({}, null, genesis)
    expect(chain.head.header.gasLimit).toBe(10_000_000n)
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 1n, { gasLimit: 10_000_001n }), { source: 'local' }),
      TxPoolErrorCode.GAS_LIMIT,
      'exceeds block gas limit',
    )
    await pool.add(transfer(common, K0, 0n, A1, 1n, { gasLimit: 10_000_000n }), { source: 'local' })
  })

  // @ethereumjs/tx refuses to construct (or decode) a 1559 tx with tip > cap, so this check is
  // defence in depth: the tx is built valid, unfrozen, and then altered.
  it('max priority fee per gas higher than max fee per gas', async () => {
    const { pool, common } = await setup()
    expect(() =>
      createFeeMarket1559Tx({ gasLimit: 21000n, maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI + 1n }, { common }),
    ).toThrow()
    const tx = forged(common, { maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI })
    Object.assign(tx, { maxPriorityFeePerGas: GWEI + 1n })
    await expectRejected(
      pool.add(tx, { source: 'local' }),
      TxPoolErrorCode.TIP_ABOVE_FEE_CAP,
      'max priority fee per gas higher than max fee per gas',
    )
  })

  it('transaction underpriced: tip below minTip (1559 tip, legacy gas price)', async () => {
    const { pool, common } = await setup({ minTip: GWEI })
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 1n, { maxPriorityFeePerGas: GWEI - 1n }), { source: 'local' }),
      TxPoolErrorCode.UNDERPRICED,
      'transaction underpriced',
    )
    await expectRejected(
      pool.add(createLegacyTx({ nonce: 0n, to: A1, gasLimit: 21000n, gasPrice: GWEI - 1n }, { common }).sign(K0), {
        source: 'local',
      }),
      TxPoolErrorCode.UNDERPRICED,
      'transaction underpriced',
    )
    // exactly minTip is enough
    await pool.add(transfer(common, K0, 0n, A1, 1n, { maxPriorityFeePerGas: GWEI }), { source: 'local' })
  })

  it('oversized data: encoded size above maxTxSize', async () => {
    const { pool, common } = await setup({ maxTxSize: 1024 })
    const big = transfer(common, K0, 0n, A1, 0n, { data: new Uint8Array(1100), gasLimit: 100_000n })
    expect(big.serialize().length).toBeGreaterThan(1024)
    await expectRejected(pool.add(big, { source: 'local' }), TxPoolErrorCode.OVERSIZED, 'oversized data')
    const fits = transfer(common, K0, 0n, A1, 0n, { data: new Uint8Array(900), gasLimit: 100_000n })
    expect(fits.serialize().length).toBeLessThanOrEqual(1024)
    await pool.add(fits, { source: 'local' })
  })

  it('invalid sender: a signature (r = s = 0) from which no key can be recovered', async () => {
    const { pool, common } = await setup()
    const bad = createFeeMarket1559Tx(
      {
        nonce: 0n,
        to: A1,
        gasLimit: 21000n,
        maxFeePerGas: 10n * GWEI,
        maxPriorityFeePerGas: GWEI,
        v: 0n,
        r: 0n,
        s: 0n,
      },
      { common },
    )
    expect(() => bad.getSenderAddress()).toThrow()
    await expectRejected(pool.add(bad, { source: 'local' }), TxPoolErrorCode.INVALID_SENDER, 'invalid sender')
    expect(pool.size).toBe(0)
  })

  // Also unreachable through @ethereumjs/tx (it refuses nonce >= 2^64 - 1): defence in depth.
  it('nonce has max value', async () => {
    const { pool, common } = await setup()
    expect(() => transfer(common, K0, 2n ** 64n - 1n, A1, 1n)).toThrow()
    const tx = forged(common, {})
    Object.assign(tx, { nonce: 2n ** 64n - 1n })
    await expectRejected(pool.add(tx, { source: 'local' }), TxPoolErrorCode.NONCE_MAX, 'nonce has max value')
  })

  it('a rejected transaction leaves the pool unchanged', async () => {
    const { pool, common } = await setup()
    const ok = transfer(common, K0, 0n, A1, 1n)
    await pool.add(ok, { source: 'local' })
    await pool.add(transfer(common, K0, 1n, A1, 1n, { gasLimit: 1n }), { source: 'local' }).catch(() => {})
    expect(pool.size).toBe(1)
    expect(await pool.pendingNonce(createAddressFromString(A0))).toBe(1n)
  })
})

describe('replacement', () => {
  const base = { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 10n * GWEI }

  it('+9% on both fees is refused: replacement transaction underpriced', async () => {
    const { pool, common } = await setup()
    const old = transfer(common, K0, 0n, A1, 1n, base)
    await pool.add(old, { source: 'local' })
    await expectRejected(
      pool.add(
        transfer(common, K0, 0n, A2, 1n, { maxFeePerGas: 109n * GWEI, maxPriorityFeePerGas: (109n * GWEI) / 10n }),
        { source: 'local' },
      ),
      TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
      'replacement transaction underpriced',
    )
    expect(pool.get(old.hash())).toBe(old)
    expect(pool.size).toBe(1)
  })

  it('+10% on one fee only is refused', async () => {
    const { pool, common } = await setup()
    await pool.add(transfer(common, K0, 0n, A1, 1n, base), { source: 'local' })
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 2n, { maxFeePerGas: 110n * GWEI, maxPriorityFeePerGas: 10n * GWEI }), {
        source: 'local',
      }),
      TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
      'replacement transaction underpriced',
    )
    await expectRejected(
      pool.add(transfer(common, K0, 0n, A1, 2n, { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 11n * GWEI }), {
        source: 'local',
      }),
      TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
      'replacement transaction underpriced',
    )
  })

  it('+10% on both fees replaces: the old one is gone, the size is unchanged', async () => {
    const metrics = createTxPoolMetrics(new Registry())
    const { pool, common } = await setup({}, metrics)
    const other = transfer(common, K1, 0n, A2, 1n)
    await pool.add(other, { source: 'local' })
    const old = transfer(common, K0, 0n, A1, 1n, base)
    await pool.add(old, { source: 'local' })
    expect(pool.size).toBe(2)
    const next = transfer(common, K0, 0n, A2, 1n, { maxFeePerGas: 110n * GWEI, maxPriorityFeePerGas: 11n * GWEI })
    await pool.add(next, { source: 'local' })
    expect(pool.get(old.hash())).toBeUndefined()
    expect(pool.get(next.hash())).toBe(next)
    expect(pool.size).toBe(2)
    expect((await metrics.replaced.get()).values[0]?.value).toBe(1)
    const { pending } = await pool.content()
    expect(pending.get(createAddressFromString(A0).toString())).toEqual([next])
    // the old one can be re-submitted only as a replacement, which is now underpriced
    await expectRejected(
      pool.add(old, { source: 'local' }),
      TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
      'replacement transaction underpriced',
    )
  })

  it('legacy: gas price +10% replaces, +9% does not', async () => {
    const { pool, common } = await setup()
    const legacy = (gasPrice: bigint, value: bigint) =>
      createLegacyTx({ nonce: 0n, to: A1, value, gasLimit: 21000n, gasPrice }, { common }).sign(K0)
    await pool.add(legacy(100n * GWEI, 1n), { source: 'local' })
    await expectRejected(
      pool.add(legacy(109n * GWEI, 2n), { source: 'local' }),
      TxPoolErrorCode.REPLACEMENT_UNDERPRICED,
      'replacement transaction underpriced',
    )
    const next = legacy(110n * GWEI, 3n)
    await pool.add(next, { source: 'local' })
    expect(pool.size).toBe(1)
    expect(pool.get(next.hash())).toBe(next)
  })
})

describe('pending and queued', () => {
  it('nonces 0 and 2: one pending, one queued; adding 1 promotes all', async () => {
    const { pool, common } = await setup()
    const from = createAddressFromString(A0)
    const key = from.toString()
    const t0 = transfer(common, K0, 0n, A1, 1n)
    const t1 = transfer(common, K0, 1n, A1, 1n)
    const t2 = transfer(common, K0, 2n, A1, 1n)
    await pool.add(t2, { source: 'local' })
    let c = await pool.content()
    expect(c.pending.has(key)).toBe(false)
    expect(c.queued.get(key)).toEqual([t2])
    expect(await pool.pendingNonce(from)).toBe(0n)

    await pool.add(t0, { source: 'local' })
    c = await pool.content()
    expect(c.pending.get(key)).toEqual([t0])
    expect(c.queued.get(key)).toEqual([t2])
    expect(await pool.pendingNonce(from)).toBe(1n)

    await pool.add(t1, { source: 'local' })
    c = await pool.content()
    expect(c.pending.get(key)).toEqual([t0, t1, t2])
    expect(c.queued.has(key)).toBe(false)
    expect(await pool.pendingNonce(from)).toBe(3n)
    expect(pool.size).toBe(3)
  })

  it('queued transactions are ordered by nonce and never offered to a block', async () => {
    const { pool, common } = await setup()
    const key = createAddressFromString(A0).toString()
    const t5 = transfer(common, K0, 5n, A1, 1n)
    const t3 = transfer(common, K0, 3n, A1, 1n)
    const t4 = transfer(common, K0, 4n, A1, 1n)
    for (const t of [t5, t3, t4]) await pool.add(t, { source: 'local' })
    const c = await pool.content()
    expect(c.queued.get(key)).toEqual([t3, t4, t5])
    const source = await pool.blockSource(GWEI)
    expect(source.peek()).toBeUndefined()
  })

  it('pendingNonce of an unknown address is its state nonce (0)', async () => {
    const { pool } = await setup()
    expect(await pool.pendingNonce(createAddressFromString(A2))).toBe(0n)
  })
})

describe('limits', () => {
  it('globalSlots full: txpool is full (a replacement is still accepted)', async () => {
    const { pool, common } = await setup({ globalSlots: 2 })
    await pool.add(transfer(common, K0, 0n, A1, 1n), { source: 'local' })
    await pool.add(transfer(common, K1, 0n, A1, 1n), { source: 'local' })
    await expectRejected(
      pool.add(transfer(common, K2, 0n, A1, 1n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    await expectRejected(
      pool.add(transfer(common, K0, 1n, A1, 1n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
    const replacement = transfer(common, K0, 0n, A2, 1n, { maxFeePerGas: 11n * GWEI, maxPriorityFeePerGas: 2n * GWEI })
    await pool.add(replacement, { source: 'local' })
    expect(pool.size).toBe(2)
  })

  // Regression (was a bug in pool.ts line 235, `counts()`): it returns `{ pending: byHash.size, queued: 0 }`, so queued
  // (nonce-gapped) transactions use up executable slots. Here one pending + one queued tx fill
  // globalSlots = 2 and a second *executable* tx is refused although only one slot is used.
  it('queued transactions do not use up globalSlots', async () => {
    const { pool, common } = await setup({ globalSlots: 2, globalQueue: 10 })
    await pool.add(transfer(common, K0, 0n, A1, 1n), { source: 'local' }) // pending
    await pool.add(transfer(common, K0, 5n, A1, 1n), { source: 'local' }) // queued (gap at 1..4)
    await pool.add(transfer(common, K1, 0n, A1, 1n), { source: 'local' }) // pending: the 2nd executable tx
    expect(pool.size).toBe(3)
  })

  // Regression (was a bug in pool.ts, `counts()`): `queued` is always 0, so `queued >= globalQueue` never holds and
  // globalQueue is not enforced at all (unless it is 0).
  it('globalQueue full: txpool is full for a nonce-gapped transaction', async () => {
    const { pool, common } = await setup({ globalSlots: 10, globalQueue: 1 })
    await pool.add(transfer(common, K0, 5n, A1, 1n), { source: 'local' }) // queued
    await expectRejected(
      pool.add(transfer(common, K0, 6n, A1, 1n), { source: 'local' }),
      TxPoolErrorCode.FULL,
      'txpool is full',
    )
  })
})

describe('metrics', () => {
  it('counts admissions and rejections by reason code', async () => {
    const metrics = createTxPoolMetrics(new Registry())
    const { pool, common } = await setup({ minTip: GWEI }, metrics)
    const tx = transfer(common, K0, 0n, A1, 1n)
    await pool.add(tx, { source: 'local' })
    await pool.add(tx, { source: 'local' }).catch(() => {})
    await pool.add(tx, { source: 'local' }).catch(() => {})
    await pool.add(transfer(common, K1, 0n, A1, 1n, { gasLimit: 20_000n }), { source: 'local' }).catch(() => {})
    await pool.add(transfer(common, K1, 0n, A1, 1n, { maxPriorityFeePerGas: 1n }), { source: 'local' }).catch(() => {})

    const rejected = await metrics.rejected.get()
    const byReason = Object.fromEntries(rejected.values.map((v) => [v.labels.reason, v.value]))
    expect(byReason).toEqual({
      [TxPoolErrorCode.ALREADY_KNOWN]: 2,
      [TxPoolErrorCode.INTRINSIC_GAS]: 1,
      [TxPoolErrorCode.UNDERPRICED]: 1,
    })
    expect((await metrics.admitted.get()).values[0]?.value).toBe(1)
    expect((await metrics.pending.get()).values[0]?.value).toBe(1)
  })

  // Regression (was a bug in pool.ts line 239, `updateGauges()`): only `pending` is set, to byHash.size (queued txs included);
  // the `cairn_txpool_queued` gauge is never written.
  it('pending and queued gauges split executable and gapped transactions', async () => {
    const metrics = createTxPoolMetrics(new Registry())
    const { pool, common } = await setup({}, metrics)
    await pool.add(transfer(common, K0, 0n, A1, 1n), { source: 'local' })
    await pool.add(transfer(common, K0, 2n, A1, 1n), { source: 'local' })
    expect((await metrics.pending.get()).values[0]?.value).toBe(1)
    expect((await metrics.queued.get()).values[0]?.value).toBe(1)
  })
})

describe('concurrent admission', () => {
  it('two concurrent transactions of one sender, not affordable together: one is refused', async () => {
    const { pool, common } = await setup()
    const results = await Promise.allSettled([
      pool.add(transfer(common, K0, 0n, A1, 6000n * ETHER), { source: 'local' }),
      pool.add(transfer(common, K0, 1n, A1, 6000n * ETHER), { source: 'local' }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected'])
    const err = (results[1] as PromiseRejectedResult).reason as CairnError
    expect(err.code).toBe(TxPoolErrorCode.INSUFFICIENT_FUNDS)
    expect(pool.size).toBe(1)
  })

  // Regression (was a bug in pool.ts, `validateAndInsert`, the "already known" check on line 92 runs before the
  // `await this.headState.getAccount(from)` on line 107): two concurrent adds of the same
  // transaction both pass "already known"; when the second resumes, the first is pooled under the
  // same sender+nonce, so it is judged as a replacement of itself and refused with "replacement
  // transaction underpriced" instead of geth's "already known" (which clients such as ethers treat
  // as success when re-broadcasting). Fix: re-check `byHash.has(key)` after the await (or
  // serialise `add` with a mutex).
  it('the same transaction added twice at once: the second is "already known"', async () => {
    const { pool, common } = await setup()
    const tx = transfer(common, K0, 0n, A1, 1n)
    const results = await Promise.allSettled([pool.add(tx, { source: 'local' }), pool.add(tx, { source: 'local' })])
    expect(results[0]?.status).toBe('fulfilled')
    const err = (results[1] as PromiseRejectedResult).reason as CairnError
    expect(err.code).toBe(TxPoolErrorCode.ALREADY_KNOWN)
    expect(err.message).toBe('already known')
  })
})
