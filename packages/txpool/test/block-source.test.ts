import { type Chain, devGenesis } from '@cairn/chain'
import type { Hex } from '@cairn/utils'
import { createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, privateToAddress } from '@ethereumjs/util'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from '../../chain/test/helpers.ts'
import { effectiveTip, PriceAndNonceSource } from '../src/index.ts'
import { GWEI, poolOn, setup } from './helpers.ts'

const [K0, K1, K2] = KEYS as [Uint8Array, Uint8Array, Uint8Array]
const [A0, A1, A2] = ADDRS as [Hex, Hex, Hex]

const K3 = Uint8Array.from(Buffer.from('33'.repeat(32), 'hex'))
const A3 = bytesToHex(privateToAddress(K3)) as Hex
const SENDER_KEYS = [K0, K1, K2, K3]

type Spec = { kind: '1559'; tip: bigint; cap: bigint } | { kind: 'legacy'; price: bigint }

/** Fee fields in gwei; caps and prices straddle the base fees below so some txs cannot pay. */
const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc
    .record({
      kind: fc.constant('1559' as const),
      tip: fc.constantFrom(0n, 1n, 3n, 5n),
      cap: fc.constantFrom(3n, 6n, 12n),
    })
    .filter((s) => s.tip <= s.cap),
  fc.record({ kind: fc.constant('legacy' as const), price: fc.constantFrom(1n, 3n, 6n, 12n) }),
)
const MAX_NONCES = 5
/** Per sender, index = nonce; null leaves a gap (that nonce and the rest of the sender are queued). */
const senderArb = fc.array(fc.option(specArb, { nil: null, freq: 5 }), { maxLength: MAX_NONCES })

function capOf(s: Spec): bigint {
  return (s.kind === '1559' ? s.cap : s.price) * GWEI
}
function tipAt(s: Spec, baseFee: bigint): bigint {
  return s.kind === '1559' ? min(s.tip * GWEI, s.cap * GWEI - baseFee) : s.price * GWEI - baseFee
}
function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

describe('blockSource (price and nonce order)', () => {
  let chain: Chain
  const signed = new Map<string, TypedTransaction>()
  const txFor = (sender: number, nonce: number, s: Spec): TypedTransaction => {
    const id = `${sender}|${nonce}|${s.kind}|${s.kind === '1559' ? `${s.tip}/${s.cap}` : s.price}`
    let tx = signed.get(id)
    if (!tx) {
      const key = SENDER_KEYS[sender] as Uint8Array
      tx =
        s.kind === '1559'
          ? transfer(chain.common, key, BigInt(nonce), A0, 1n, {
              maxFeePerGas: s.cap * GWEI,
              maxPriorityFeePerGas: s.tip * GWEI,
            })
          : createLegacyTx(
              { nonce: BigInt(nonce), to: A0, value: 1n, gasLimit: 21000n, gasPrice: s.price * GWEI },
              { common: chain.common },
            ).sign(key)
      signed.set(id, tx)
    }
    return tx
  }

  beforeAll(async () => {
    chain = await openChain(undefined, devGenesis({ accounts: [...ADDRS, A3] }))
  })

  it('yields, at each step, a head of maximal effective tip, keeping every sender in nonce order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(senderArb, { minLength: SENDER_KEYS.length, maxLength: SENDER_KEYS.length }),
        fc.constantFrom(1n, 2n, 4n, 7n),
        fc.array(fc.integer(), {
          minLength: SENDER_KEYS.length * MAX_NONCES,
          maxLength: SENDER_KEYS.length * MAX_NONCES,
        }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 32, maxLength: 32 }),
        async (senders, baseFeeGwei, orderKeys, popDice) => {
          const baseFee = baseFeeGwei * GWEI
          const pool = poolOn(chain, { minTip: 0n })
          // add everything, in a random order (gaps and promotions included)
          const items: { sender: number; nonce: number; spec: Spec }[] = []
          senders.forEach((nonces, sender) => {
            nonces.forEach((spec, nonce) => {
              if (spec) items.push({ sender, nonce, spec })
            })
          })
          const order = items.map((it, i) => ({ it, k: orderKeys[i] ?? 0 })).sort((a, b) => a.k - b.k)
          for (const { it } of order) await pool.add(txFor(it.sender, it.nonce, it.spec), { source: 'local' })

          // the model: each sender's executable run from nonce 0
          const runs = senders.map((nonces, sender) => {
            const run: { tx: TypedTransaction; spec: Spec }[] = []
            for (const [nonce, spec] of nonces.entries()) {
              if (!spec) break
              run.push({ tx: txFor(sender, nonce, spec), spec })
            }
            return run
          })
          const pos = runs.map(() => 0)
          /** The sender's next tx, if it can pay the base fee (else the sender is done). */
          const headOf = (s: number) => {
            const e = runs[s]?.[pos[s] ?? 0]
            return e !== undefined && capOf(e.spec) >= baseFee ? e : undefined
          }

          const source = await pool.blockSource(baseFee)
          for (let step = 0; ; step++) {
            const tx = source.peek()
            const heads = runs.flatMap((_, s) => {
              const e = headOf(s)
              return e ? [{ s, ...e }] : []
            })
            if (heads.length === 0) {
              expect(tx).toBeUndefined()
              break
            }
            expect(tx).toBeDefined()
            const picked = heads.find((h) => h.tx === tx)
            expect(picked, 'the yielded tx is the next nonce of a sender that can pay').toBeDefined()
            const s = picked?.s as number
            const best = heads.map((h) => tipAt(h.spec, baseFee)).reduce(max)
            expect(effectiveTip(tx as TypedTransaction, baseFee)).toBe(best)
            if (popDice[step % popDice.length] === 0) {
              source.pop()
              pos[s] = Number.POSITIVE_INFINITY
            } else {
              source.shift()
              pos[s] = (pos[s] ?? 0) + 1
            }
          }
          // the source reads the pool; it does not take anything out
          expect(pool.size).toBe(items.length)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('a sender whose next tx cannot pay the base fee stops there: it and the rest stay in the pool', async () => {
    const { pool, common } = await setup({ minTip: 0n })
    const poor = transfer(common, K2, 0n, A0, 1n, { maxFeePerGas: GWEI / 2n, maxPriorityFeePerGas: GWEI / 10n })
    const behind = transfer(common, K2, 1n, A0, 1n, { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 50n * GWEI })
    const ok = transfer(common, K0, 0n, A1, 1n)
    const mid = transfer(common, K1, 0n, A1, 1n, { maxPriorityFeePerGas: 2n * GWEI })
    const low = transfer(common, K1, 1n, A1, 1n, { maxFeePerGas: GWEI / 2n, maxPriorityFeePerGas: 0n })
    for (const tx of [poor, behind, ok, mid, low]) await pool.add(tx, { source: 'local' })

    const baseFee = GWEI
    expect(pool.hasExecutable(baseFee)).toBe(true)
    const source = await pool.blockSource(baseFee)
    const yielded: TypedTransaction[] = []
    for (let tx = source.peek(); tx; tx = source.peek()) {
      yielded.push(tx)
      source.shift()
    }
    expect(yielded).toEqual([mid, ok])
    expect(pool.size).toBe(5)
    expect(pool.get(poor.hash())).toBe(poor)
    expect(pool.get(low.hash())).toBe(low)
  })

  it('highest effective tip first, ties in sender order; legacy pays gasPrice - baseFee', () => {
    const common = chain.common
    const baseFee = 2n * GWEI
    // effective tips at baseFee 2 gwei: a = min(5, 3-2) = 1; b = 4-2 = 2; c = min(3, 10-2) = 3; d = 1
    const a = transfer(common, K0, 0n, A1, 1n, { maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: 3n * GWEI })
    const b = createLegacyTx({ nonce: 0n, to: A1, gasLimit: 21000n, gasPrice: 4n * GWEI }, { common }).sign(K1)
    const c = transfer(common, K2, 0n, A1, 1n, { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 3n * GWEI })
    const d = transfer(common, K3, 0n, A1, 1n, { maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI })
    const source = new PriceAndNonceSource([[a], [b], [c], [d]], baseFee)
    const out: TypedTransaction[] = []
    for (let tx = source.peek(); tx; tx = source.peek()) {
      out.push(tx)
      source.shift()
    }
    expect(out).toEqual([c, b, a, d])
  })
})

function hashes(txs: (TypedTransaction | undefined)[] | undefined): string[] {
  return (txs ?? []).map((t) => (t ? bytesToHex(t.hash()) : 'none'))
}

describe('onNewHead', () => {
  it('removes included transactions, drops stale ones, keeps (and promotes) the rest', async () => {
    const { chain, pool, common } = await setup({ minTip: 0n })
    const a0 = transfer(common, K0, 0n, A1, 1n)
    const a1 = transfer(common, K0, 1n, A1, 1n)
    const a3 = transfer(common, K0, 3n, A1, 1n) // queued behind a gap at 2
    const b0 = transfer(common, K1, 0n, A2, 1n)
    // cannot pay the next base fee (0.875 gwei): stays in the pool, and holds back c1
    const c0 = transfer(common, K2, 0n, A0, 1n, { maxFeePerGas: GWEI / 2n, maxPriorityFeePerGas: 1n })
    const c1 = transfer(common, K2, 1n, A0, 1n)
    for (const tx of [a0, a1, a3, b0, c0, c1]) await pool.add(tx, { source: 'local' })

    const parent = chain.head
    const baseFee = parent.header.calcNextBaseFee()
    expect(baseFee).toBe((GWEI * 7n) / 8n)
    const built = await chain.build(
      parent,
      { timestamp: parent.header.timestamp + 12n },
      await pool.blockSource(baseFee),
    )
    expect(built.rejected).toEqual([])
    expect(built.block.transactions.map((t) => bytesToHex(t.hash())).sort()).toEqual(
      [a0, a1, b0].map((t) => bytesToHex(t.hash())).sort(),
    )
    const result = await chain.committer.commit(built)
    expect(result.status).toBe('head')
    await pool.onNewHead(built.block)

    for (const tx of [a0, a1, b0]) expect(pool.get(tx.hash())).toBeUndefined()
    for (const tx of [a3, c0, c1]) expect(pool.get(tx.hash())).toBe(tx)
    expect(pool.size).toBe(3)
    expect(await pool.pendingNonce(createAddressFromString(A0))).toBe(2n)
    let content = await pool.content()
    expect(content.queued.get(createAddressFromString(A0).toString())).toEqual([a3])
    expect(content.pending.get(createAddressFromString(A2).toString())).toEqual([c0, c1])

    // a block mined elsewhere takes C's nonce 0 with another tx: c0 is stale and dropped, c1 now runs
    const other = transfer(common, K2, 0n, A1, 7n)
    const { block: next } = await buildAndImport(chain, [other])
    await pool.onNewHead(next)
    expect(pool.get(c0.hash())).toBeUndefined()
    expect(pool.get(c1.hash())).toBe(c1)
    content = await pool.content()
    expect(content.pending.get(createAddressFromString(A2).toString())).toEqual([c1])
    expect(await pool.pendingNonce(createAddressFromString(A2))).toBe(2n)

    // admission now checks against the new head
    await expect(pool.add(a0, { source: 'local' })).rejects.toMatchObject({ code: 'TXPOOL_NONCE_TOO_LOW' })
  })

  it('reorg: puts back the still-valid transactions of the removed blocks', async () => {
    const { chain, pool, common } = await setup({ minTip: 0n })
    const genesis = chain.head
    const t0 = transfer(common, K0, 0n, A1, 1n)
    const t1 = transfer(common, K1, 0n, A2, 1n)
    const t2 = transfer(common, K2, 0n, A0, 1n)
    const t0next = transfer(common, K0, 1n, A1, 1n)
    for (const tx of [t0, t1, t2, t0next]) await pool.add(tx, { source: 'local' })

    // branch A: block 1a with all four
    const built = await chain.build(
      genesis,
      { timestamp: genesis.header.timestamp + 12n },
      await pool.blockSource(genesis.header.calcNextBaseFee()),
    )
    expect(built.block.transactions).toHaveLength(4)
    await chain.committer.commit(built)
    await pool.onNewHead(built.block)
    expect(pool.size).toBe(0)

    // branch B, longer: 1b takes t1 and another nonce-0 tx of K2; 2b is empty
    const t2b = transfer(common, K2, 0n, A1, 99n)
    const b1 = await buildAndImport(chain, [t1, t2b], { parent: genesis, timestamp: genesis.header.timestamp + 13n })
    expect(b1.result.status).toBe('side')
    const b2 = await buildAndImport(chain, [], { parent: b1.block })
    expect(b2.result.status).toBe('head')
    expect(b2.result.removed.map((b) => bytesToHex(b.hash()))).toEqual([bytesToHex(built.block.hash())])

    await pool.onNewHead(b2.block, b2.result.removed)
    // t0 and t0next are valid on branch B and come back (executable, in order); the pool holds the
    // removed block's copies of them
    expect(pool.get(t0.hash())?.hash()).toEqual(t0.hash())
    expect(pool.get(t0next.hash())?.hash()).toEqual(t0next.hash())
    // t1 is included on branch B; t2's nonce was taken by t2b
    expect(pool.get(t1.hash())).toBeUndefined()
    expect(pool.get(t2.hash())).toBeUndefined()
    expect(pool.size).toBe(2)
    const { pending, queued } = await pool.content()
    expect(hashes(pending.get(createAddressFromString(A0).toString()))).toEqual(hashes([t0, t0next]))
    expect(queued.size).toBe(0)
    const source = await pool.blockSource(b2.block.header.calcNextBaseFee())
    expect(hashes([source.peek()])).toEqual(hashes([t0]))
  })

  it('discard() removes transactions the producer could not include', async () => {
    const { pool, common } = await setup()
    const a = transfer(common, K0, 0n, A1, 1n)
    const b = transfer(common, K0, 1n, A1, 1n)
    await pool.add(a, { source: 'local' })
    await pool.add(b, { source: 'local' })
    pool.discard([a])
    expect(pool.size).toBe(1)
    expect(pool.get(a.hash())).toBeUndefined()
    // b is now gapped
    const { pending, queued } = await pool.content()
    expect(pending.size).toBe(0)
    expect(queued.get(createAddressFromString(A0).toString())).toEqual([b])
  })
})

describe('hasExecutable', () => {
  it('is false on an empty pool and when no tx can pay the base fee', async () => {
    const { pool, common } = await setup({ minTip: 0n })
    expect(pool.hasExecutable(GWEI)).toBe(false)
    await pool.add(transfer(common, K0, 0n, A1, 1n, { maxFeePerGas: GWEI / 2n, maxPriorityFeePerGas: 0n }), {
      source: 'local',
    })
    expect(pool.hasExecutable(GWEI)).toBe(false)
    expect(pool.hasExecutable(GWEI / 2n)).toBe(true)
  })

  // Regression (was a bug in pool.ts `hasExecutable`, lines 190-195): it returns true for any pooled tx that covers the
  // base fee, including queued (nonce-gapped) ones, which cannot go into the next block although
  // the doc says "True when some transaction could go into the next block". The dev engine uses it
  // to decide whether to seal, so a gapped tx makes it seal an empty block. Fix: look only at the
  // head of each sender's executable run (`split(sender, stateNonce).run[0]`), which needs the
  // state nonce (cache it per sender on add/onNewHead, or make it async).
  it('is false when the only transactions are queued behind a nonce gap', async () => {
    const { pool, common } = await setup()
    await pool.add(transfer(common, K0, 1n, A1, 1n), { source: 'local' })
    expect(pool.hasExecutable(GWEI)).toBe(false)
  })
})
