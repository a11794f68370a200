// What Cairn derives once per transaction object (its encoding, its sender), kept on the object's
// own cache: the same answers as @ethereumjs's, computed once per object and never shared between
// objects, for transactions @ethereumjs built and for those decodeTransaction built.
import { initCrypto, keccak256 } from '@cairn/crypto'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex } from '@ethereumjs/util'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon, encodedTx, seedEncodedTx, txHashHex, txSender, txSenderHex } from '../../src/index.ts'
import { decodeTransaction } from '../../src/store/tx-decode.ts'
import { ADDRS, KEYS, typedTx } from '../helpers.ts'

const common = createChainCommon({ chainId: 1337n, hardfork: 'osaka' })

beforeAll(() => initCrypto())

const txArb = fc.record({
  key: fc.integer({ min: 0, max: KEYS.length - 1 }),
  type: fc.integer({ min: 0, max: 2 }),
  nonce: fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }),
  value: fc.bigInt({ min: 0n, max: 2n ** 128n }),
  data: fc.uint8Array({ maxLength: 40 }),
})

function signed(t: { key: number; type: number; nonce: bigint; value: bigint; data: Uint8Array }): TypedTransaction {
  return typedTx(common, KEYS[t.key] as Uint8Array, t.type, { ...t, gasLimit: 100_000n })
}

describe('encodedTx and txSender', () => {
  it("answer @ethereumjs's encoding and sender, once per object, for its transactions and decoded ones", () => {
    fc.assert(
      fc.property(txArb, (t) => {
        const tx = signed(t)
        const raw = tx.serialize()
        const decoded = decodeTransaction(raw, common)
        for (const x of decoded === undefined ? [tx] : [tx, decoded]) {
          const sender = txSender(x)
          expect(sender.toString()).toBe(ADDRS[t.key]?.toLowerCase())
          expect(txSender(x)).toBe(sender) // the same object: derived once
          expect(bytesToHex(encodedTx(x))).toBe(bytesToHex(raw))
          expect(encodedTx(x)).toBe(encodedTx(x))
          expect(txHashHex(x)).toBe(bytesToHex(keccak256(raw)))
          expect(txSenderHex(x)).toBe(sender.toString())
        }
        // Two objects of the same transaction derive their own (nothing is shared between them).
        if (decoded !== undefined) expect(txSender(decoded)).not.toBe(txSender(tx))
      }),
      { numRuns: 60 },
    )
  })

  it('a seeded encoding is the one answered, and seeds the hash; a second seed is ignored', () => {
    const tx = signed({ key: 1, type: 2, nonce: 3n, value: 5n, data: new Uint8Array(0) })
    const raw = tx.serialize()
    const decoded = decodeTransaction(raw, common) as TypedTransaction
    seedEncodedTx(decoded, raw)
    expect(encodedTx(decoded)).toBe(raw)
    expect(decoded.hash()).toEqual(keccak256(raw))
    seedEncodedTx(decoded, new Uint8Array(raw))
    expect(encodedTx(decoded)).toBe(raw)
  })

  it('a transaction with its own getSenderAddress (impersonation) keeps it', () => {
    const tx = signed({ key: 0, type: 2, nonce: 0n, value: 1n, data: new Uint8Array(0) })
    const who = new Address(new Uint8Array(20).fill(0xab))
    const impersonated = Object.freeze(Object.assign(Object.create(tx), { getSenderAddress: () => who }))
    expect(txSender(impersonated)).toBe(who)
    expect(txSenderHex(impersonated)).toBe(who.toString())
    expect(txSender(tx).toString()).toBe(ADDRS[0]?.toLowerCase())
    expect(txSenderHex(tx)).toBe(ADDRS[0]?.toLowerCase())
  })

  it("an unfrozen transaction's hash hex follows the transaction (it is not kept)", () => {
    const tx = signed({ key: 2, type: 2, nonce: 1n, value: 1n, data: new Uint8Array(0) })
    const raw = tx.serialize()
    const unfrozen = createTxFromRLP(raw, { common, freeze: false })
    expect(Object.isFrozen(unfrozen)).toBe(false)
    const before = txHashHex(unfrozen)
    ;(unfrozen as unknown as { nonce: bigint }).nonce = 2n
    expect(txHashHex(unfrozen)).not.toBe(before)
  })
})
