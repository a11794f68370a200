import { createCustomCrypto, initCrypto, keccak256, RecoverPool } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import {
  createAccessList2930Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
  createTxFromRLP,
  type TypedTransaction,
} from '@ethereumjs/tx'
import { SECP256K1_ORDER_DIV_2 } from '@ethereumjs/util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signatureBytes, workerRecovery } from '../../src/execution/recovery.ts'
import { createChainCommon } from '../../src/rules/common.ts'
import { signingParts } from '../../src/store/signing-hash.ts'

let common: ReturnType<typeof createChainCommon>
let pool: RecoverPool | undefined
beforeAll(async () => {
  await initCrypto()
  common = createChainCommon({ chainId: 1337n, hardfork: 'prague', customCrypto: createCustomCrypto() })
  pool = RecoverPool.create({ threads: 2 })
})
afterAll(async () => {
  await pool?.close()
})

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0) && k[0] !== 0xff)
const txArb = fc.record({
  key,
  nonce: fc.bigInt({ min: 0n, max: 2n ** 32n }),
  type: fc.constantFrom(0, 1, 2),
  data: fc.uint8Array({ maxLength: 40 }),
})

function sign(spec: typeof txArb extends fc.Arbitrary<infer T> ? T : never): TypedTransaction {
  const fields = {
    nonce: spec.nonce,
    to: '0x000000000000000000000000000000000000beef' as const,
    value: 1n,
    gasLimit: 100_000n,
    data: spec.data,
  }
  const tx =
    spec.type === 0
      ? createLegacyTx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(spec.key)
      : spec.type === 1
        ? createAccessList2930Tx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(spec.key)
        : createFeeMarket1559Tx({ ...fields, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n }, { common }).sign(
            spec.key,
          )
  return tx
}

/** What @ethereumjs recovers on this thread, or the error it gives. */
function reference(raw: Uint8Array): string {
  try {
    return bytesToHex(createTxFromRLP(raw, { common }).getSenderPublicKey())
  } catch (err) {
    return `error: ${String(err).split(' (')[0]}`
  }
}

describe('sender recovery on worker threads', () => {
  it('seeds the same public key @ethereumjs recovers, for batches of every type (high-s signatures cannot even be decoded)', async () => {
    if (!pool) return console.warn('native secp256k1 not loaded: the worker pool is not used, test skipped')
    const recovery = workerRecovery(pool)
    await fc.assert(
      fc.asyncProperty(
        fc.array(txArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 5 }),
        async (specs, cuts) => {
          // Up to 300 transactions (signed ones repeated: signing is slow), cut into up to six calls
          // made in one turn: packed together, sent in messages of at most 64 jobs that cross the
          // calls' boundaries, each call answered with its own keys as soon as they are back.
          const raws = Array.from({ length: 10 * specs.length }, (_, i) =>
            sign(specs[i % specs.length] as never).serialize(),
          )
          const fresh = raws.map((raw) => createTxFromRLP(raw, { common }))
          const bounds = [0, ...cuts.map((c) => Math.min(c, fresh.length)).sort((x, y) => x - y), fresh.length]
          await Promise.all(bounds.slice(1).map((end, i) => recovery.prepare(fresh.slice(bounds[i], end))))
          fresh.forEach((tx, i) => {
            const want = reference(raws[i] as Uint8Array)
            const seeded = tx.cache.senderPubKey
            if (want.startsWith('error')) expect(seeded).toBeUndefined()
            else expect(bytesToHex(seeded as Uint8Array)).toBe(want)
            // Either way the transaction then answers as @ethereumjs does on its own.
            let got: string
            try {
              got = bytesToHex(tx.getSenderPublicKey())
            } catch (err) {
              got = `error: ${String(err).split(' (')[0]}`
            }
            expect(got).toBe(want)
          })
        },
      ),
      { numRuns: 40 },
    )
  })

  it("cuts a typed transaction's signature and signing hash from its encoding as the fields give them (any r and s, short ones included)", () => {
    const word = fc.oneof(
      fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 16n }),
      fc.bigInt({ min: 2n ** 247n, max: 2n ** 249n }),
    )
    const half = fc.oneof(
      word.filter((x) => x <= SECP256K1_ORDER_DIV_2),
      fc.constant(SECP256K1_ORDER_DIV_2),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        word,
        half,
        fc.constantFrom(0n, 1n),
        fc.uint8Array({ maxLength: 80 }),
        (type, r, s, v, data) => {
          const fields = { nonce: 3n, to: `0x${'be'.repeat(20)}` as const, value: 5n, gasLimit: 50_000n, data, v, r, s }
          const tx =
            type === 1
              ? createAccessList2930Tx({ ...fields, gasPrice: 7n }, { common })
              : createFeeMarket1559Tx({ ...fields, maxFeePerGas: 9n, maxPriorityFeePerGas: 2n }, { common })
          const parts = signingParts(tx)
          expect(parts).toBeDefined()
          expect(bytesToHex(parts?.sig as Uint8Array)).toBe(bytesToHex(signatureBytes(r, s)))
          expect(bytesToHex(parts?.hash as Uint8Array)).toBe(bytesToHex(keccak256(tx.getMessageToSign())))
        },
      ),
      { numRuns: 500 },
    )
  })
})
