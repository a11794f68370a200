import { createChainCommon } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from '@ethereumjs/tx'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeOnce, senderOf } from '../src/sender-address.ts'

let common: ReturnType<typeof createChainCommon>
beforeAll(async () => {
  await initCrypto()
  common = createChainCommon({ chainId: 1337n, hardfork: 'prague', customCrypto: createCustomCrypto() })
})

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0) && k[0] !== 0xff)

describe('the pool’s fast sender and hash', () => {
  it('equal @ethereumjs’s getSenderAddress and hash for every tx type and key', () => {
    fc.assert(
      fc.property(
        key,
        fc.bigInt({ min: 0n, max: 2n ** 32n }),
        fc.integer({ min: 0, max: 2 }),
        fc.uint8Array({ maxLength: 64 }),
        (k, nonce, type, data) => {
          const fields = {
            nonce,
            to: '0x000000000000000000000000000000000000beef' as const,
            value: 1n,
            gasLimit: 100_000n,
            data,
          }
          const tx =
            type === 0
              ? createLegacyTx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(k)
              : type === 1
                ? createAccessList2930Tx({ ...fields, gasPrice: 10n ** 9n }, { common }).sign(k)
                : createFeeMarket1559Tx(
                    { ...fields, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n },
                    { common },
                  ).sign(k)
          const fresh = createTxFromRLP(tx.serialize(), { common })
          const raw = encodeOnce(tx)
          expect(raw).toEqual(fresh.serialize())
          expect(tx.hash()).toEqual(fresh.hash())
          expect(senderOf(tx).toString()).toBe(fresh.getSenderAddress().toString())
        },
      ),
      { numRuns: 60 },
    )
  })
})
