// decodeBlock records each typed transaction's bytes from the block body as its encoding
// (seedEncodedTx): hash, signing hash, size and the transactions trie then use those bytes instead
// of re-serializing. Sound only if they are what serialize() gives, checked here for every type.
import { keccak256 } from '@cairn/crypto'
import { type BlockBytes, createBlock } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createChainCommon, decodeBlock, encodeBlock, encodedTx, signingHash } from '../../src/index.ts'
import { ChainCommons } from '../../src/rules/common.ts'
import { KEYS, typedTx } from '../helpers.ts'

const common = createChainCommon({ chainId: 1337n, hardfork: 'prague' })
const commons = ChainCommons.of(common)
const key = KEYS[0] as Uint8Array

const txSpec = fc.record({
  type: fc.constantFrom(0, 1, 2),
  data: fc.uint8Array({ maxLength: 300 }),
  nonce: fc.bigInt({ min: 0n, max: 2n ** 40n }),
  value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
})

function tx(spec: { type: number; data: Uint8Array; nonce: bigint; value: bigint }) {
  return typedTx(common, key, spec.type, {
    nonce: spec.nonce,
    value: spec.value,
    gasLimit: 1_000_000n,
    data: spec.data,
  })
}

describe('decodeBlock', () => {
  it("keeps a typed transaction's body bytes as its encoding; every transaction hashes and signs as a fresh decode", () => {
    fc.assert(
      fc.property(fc.array(txSpec, { maxLength: 8 }), (specs) => {
        const bytes = createBlock(
          { header: { number: 1n, gasLimit: 30_000_000n }, transactions: specs.map(tx) },
          { common },
        ).serialize()
        const values = RLP.decode(bytes) as unknown as BlockBytes
        const body = values[1] as unknown as (Uint8Array | Uint8Array[])[]
        const block = decodeBlock(values, commons)
        expect(block.serialize()).toEqual(bytes)
        block.transactions.forEach((t, i) => {
          const raw = body[i] as Uint8Array | Uint8Array[]
          // typed: the very bytes of the body (seeded, not re-serialized); legacy: encoded on demand
          if (raw instanceof Uint8Array) expect(encodedTx(t)).toBe(raw)
          const fresh = createTxFromRLP(t.serialize(), { common })
          expect(encodedTx(t)).toEqual(fresh.serialize())
          expect(t.hash()).toEqual(keccak256(fresh.serialize()))
          expect(signingHash(t) ?? t.getMessageToVerifySignature()).toEqual(fresh.getHashedMessageToSign())
        })
      }),
      { numRuns: 80 },
    )
  })

  it("encodeBlock gives serialize()'s bytes, for built and decoded blocks of every transaction type, withdrawals included", () => {
    fc.assert(
      fc.property(
        fc.array(txSpec, { maxLength: 8 }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 3 }),
        (specs, amounts) => {
          const built = createBlock(
            {
              header: { number: 1n, gasLimit: 30_000_000n },
              transactions: specs.map(tx),
              withdrawals: amounts.map((amount, i) => ({
                index: BigInt(i),
                validatorIndex: 7n,
                address: `0x${'ab'.repeat(20)}`,
                amount,
              })),
            },
            { common },
          )
          const bytes = built.serialize()
          expect(encodeBlock(built)).toEqual(bytes)
          expect(encodeBlock(decodeBlock(RLP.decode(bytes) as unknown as BlockBytes, commons))).toEqual(bytes)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('takes the transactions it already holds (same bytes, same rules) as they are; the block is a fresh decode’s', () => {
    const otherCommon = createChainCommon({ chainId: 1337n, hardfork: 'prague' }) // same rules, another object
    fc.assert(
      fc.property(
        fc.array(fc.record({ spec: txSpec, held: fc.constantFrom('no', 'yes', 'other-common', 'impersonated') }), {
          maxLength: 8,
        }),
        (entries) => {
          const txs = entries.map((e) => tx(e.spec))
          const bytes = createBlock(
            { header: { number: 1n, gasLimit: 30_000_000n }, transactions: txs },
            { common },
          ).serialize()
          const values = RLP.decode(bytes) as unknown as BlockBytes
          const body = values[1] as unknown as (Uint8Array | Uint8Array[])[]
          const held = new Map<string, TypedTransaction>()
          entries.forEach((e, i) => {
            const raw = (txs[i] as TypedTransaction).serialize()
            if (e.held === 'no') return
            // dev-mode impersonation: an unfrozen object with its sender set on it
            const pooled = createTxFromRLP(raw, {
              common: e.held === 'other-common' ? otherCommon : common,
              freeze: e.held !== 'impersonated',
            })
            if (e.held === 'impersonated') Object.defineProperty(pooled, 'getSenderAddress', { value: () => undefined })
            held.set(bytesToHex(keccak256(raw)), pooled)
          })
          const block = decodeBlock(values, commons, (hash) => held.get(bytesToHex(hash)))
          const fresh = decodeBlock(values, commons)
          expect(block.serialize()).toEqual(bytes)
          expect(block.hash()).toEqual(fresh.hash())
          block.transactions.forEach((t, i) => {
            const entry = entries[i] as (typeof entries)[number]
            const pooled = held.get(bytesToHex(keccak256(encodedTx(t))))
            // taken only when typed, held under the block's own Common and not impersonated
            const taken = entry.held === 'yes' && body[i] instanceof Uint8Array
            expect(t === pooled).toBe(taken)
            expect(t.common).toBe(block.common)
            expect(t.hash()).toEqual((fresh.transactions[i] as TypedTransaction).hash())
            expect(t.getSenderAddress()).toEqual((fresh.transactions[i] as TypedTransaction).getSenderAddress())
          })
        },
      ),
      { numRuns: 60 },
    )
  })
})
