import { encodedTx, seedEncodedTx, signingHash } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { Common } from '@ethereumjs/common'
import { createTx, createTxFromRLP } from '@ethereumjs/tx'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KEYS } from '../../chain/test/helpers.ts'
import { setup } from '../../txpool/test/helpers.ts'
import { decodeRawTx } from '../src/methods/eth-send.ts'

const { common } = await setup()

const word = fc.bigInt({ min: 0n, max: 2n ** 64n - 2n })
const txArb = fc.record({
  type: fc.constantFrom(0, 1, 2),
  eip155: fc.boolean(),
  nonce: word,
  // At most EIP-7825's per-transaction cap (Osaka).
  gasLimit: fc.bigInt({ min: 21_000n, max: 16_777_216n }),
  fee: word,
  tip: word,
  value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  to: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined }),
  data: fc.uint8Array({ maxLength: 300 }),
  keys: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 2 }),
})

type TxArgs = typeof txArb extends fc.Arbitrary<infer T> ? T : never

function signed(a: TxArgs): Uint8Array {
  const base = { nonce: a.nonce, gasLimit: a.gasLimit, value: a.value, data: a.data, ...(a.to ? { to: a.to } : {}) }
  const accessList = a.keys.length
    ? [{ address: bytesToHex(new Uint8Array(20).fill(7)), storageKeys: a.keys.map(bytesToHex) }]
    : []
  const data =
    a.type === 2
      ? { ...base, type: 2, maxFeePerGas: a.fee + a.tip, maxPriorityFeePerGas: a.tip, accessList }
      : a.type === 1
        ? { ...base, type: 1, gasPrice: a.fee, accessList }
        : { ...base, type: 0, gasPrice: a.fee }
  const tx = createTx(data, a.type === 0 && !a.eip155 ? { common: common.copy() } : { common }).sign(
    KEYS[0] as Uint8Array,
  )
  if (a.type === 0 && !a.eip155) {
    // Pre-EIP-155 signature: v = 27/28 without the chain id.
    return createTx({ ...data, v: 27n, r: tx.r, s: tx.s }, { common }).serialize()
  }
  return tx.serialize()
}

describe('raw transaction encodings', () => {
  it('a decoded transaction re-serializes to the bytes it came from (what seedEncodedTx relies on)', () => {
    fc.assert(
      fc.property(txArb, (a) => {
        const raw = signed(a)
        expect(createTxFromRLP(raw, { common }).serialize()).toEqual(raw)
      }),
      { numRuns: 200 },
    )
  })

  it('any byte string @ethereumjs decodes re-serializes to itself (mutated encodings)', () => {
    fc.assert(
      fc.property(
        txArb,
        fc.array(fc.record({ at: fc.nat(), byte: fc.nat(255) }), { minLength: 1, maxLength: 3 }),
        (a, edits) => {
          const raw = signed(a).slice()
          for (const e of edits) raw[e.at % raw.length] = e.byte
          let tx: ReturnType<typeof createTxFromRLP>
          try {
            tx = createTxFromRLP(raw, { common })
          } catch {
            return // refused: never admitted
          }
          expect(tx.serialize()).toEqual(raw)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('decodeRawTx gives what createTxFromRLP gives: fields, hash, sender, Common parameters', () => {
    fc.assert(
      fc.property(txArb, (a) => {
        const raw = signed(a)
        const fast = decodeRawTx(common, raw)
        const plain = createTxFromRLP(raw, { common })
        expect(fast.toJSON()).toEqual(plain.toJSON())
        expect(fast.hash()).toEqual(plain.hash())
        expect(fast.getSenderAddress().toString()).toBe(plain.getSenderAddress().toString())
        expect(fast.getIntrinsicGas()).toBe(plain.getIntrinsicGas())
        const cache = (t: typeof fast) => (t.common as unknown as { _paramsCache: unknown })._paramsCache
        expect(cache(fast)).toEqual(cache(plain))
        expect(fast.common.hardfork()).toBe(plain.common.hardfork())
      }),
      { numRuns: 100 },
    )
    // Other hardforks on the same (shared) table, interleaved: each its own cache, as the full merge builds it.
    const raw2 = signed({
      type: 2,
      eip155: true,
      nonce: 1n,
      gasLimit: 21_000n,
      fee: 1n,
      tip: 1n,
      value: 0n,
      to: undefined,
      data: new Uint8Array(),
      keys: [],
    })
    const paramsCache = (c: unknown) => (c as { _paramsCache: unknown })._paramsCache
    const at = (hardfork: string) => {
      // A Common of its own (the chain's is shared and never switched), with the shared table.
      const c = Common.prototype.copy.call(common)
      c.setHardfork(hardfork)
      return c
    }
    const london = at('london')
    const prague = at('prague')
    for (const c of [london, prague, london, prague]) {
      expect(paramsCache(decodeRawTx(c, raw2).common)).toEqual(paramsCache(createTxFromRLP(raw2, { common: c }).common))
    }
    // A table changed after the merge (new objects for an EIP's entry) is merged again.
    const table = (common as unknown as { _params: Record<string, Record<string, unknown>> })._params
    const before = table['1'] as Record<string, unknown>
    table['1'] = { ...before, txGas: 1 }
    try {
      const raw = signed({
        type: 2,
        eip155: true,
        nonce: 0n,
        gasLimit: 21_000n,
        fee: 1n,
        tip: 1n,
        value: 0n,
        to: undefined,
        data: new Uint8Array(),
        keys: [],
      })
      expect(decodeRawTx(common, raw).common.param('txGas')).toBe(21_000n)
    } finally {
      table['1'] = before
    }
  })

  it('signingHash (cut from the encoding) is getMessageToVerifySignature for typed transactions', () => {
    let typed = 0
    fc.assert(
      fc.property(txArb, (a) => {
        const tx = decodeRawTx(common, signed(a))
        const hash = signingHash(tx)
        if (tx.type === 0) expect(hash).toBeUndefined()
        else {
          typed++
          expect(hash).toEqual(tx.getMessageToVerifySignature())
        }
      }),
      { numRuns: 300 },
    )
    expect(typed).toBeGreaterThan(100)
  })

  it('seeding gives the same encoding and hash as computing them', () => {
    fc.assert(
      fc.property(txArb, (a) => {
        const raw = signed(a)
        const seeded = createTxFromRLP(raw, { common })
        seedEncodedTx(seeded, raw)
        const fresh = createTxFromRLP(raw, { common })
        expect(encodedTx(seeded)).toBe(raw)
        expect(seeded.hash()).toEqual(fresh.hash())
        expect(seeded.hash()).toEqual(keccak256(raw))
      }),
      { numRuns: 100 },
    )
  })
})
