// A gossiped transaction keeps the bytes it came in as its encoding: its hash, its signing hash and
// the body served to the next peer are cut from them, never re-serialized. Sound only if the bytes
// are what re-serializing gives, checked against a fresh decode.

import { createChainCommon, encodedTx, signingHash } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BLOB_TX_TYPE_GUARD, decodeTx } from '../src/tx-codec.ts'

const common = createChainCommon({ chainId: 1337n, hardfork: 'prague' })
const key = new Uint8Array(32).fill(7)

describe('decodeTx', () => {
  it('keeps the gossiped bytes as the encoding; hash and signing hash are a fresh decode’s', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
        fc.uint8Array({ maxLength: 200 }),
        (nonce, value, data) => {
          const bytes = createFeeMarket1559Tx(
            { nonce, value, data, gasLimit: 100_000n, maxFeePerGas: 10n ** 9n, chainId: 1337n },
            { common },
          )
            .sign(key)
            .serialize()
          const tx = decodeTx(bytes, { common })
          if (tx === BLOB_TX_TYPE_GUARD) throw new Error('not a blob transaction')
          expect(encodedTx(tx)).toBe(bytes)
          const fresh = createTxFromRLP(bytes, { common })
          expect(tx.hash()).toEqual(keccak256(fresh.serialize()))
          expect(signingHash(tx)).toEqual(fresh.getHashedMessageToSign())
        },
      ),
      { numRuns: 50 },
    )
  })

  it('refuses a malformed body as the peer’s fault and leaves blob transactions out', () => {
    expect(() => decodeTx(new Uint8Array([2, 0xc1, 0x80]), { common })).toThrow(
      expect.objectContaining({ fault: 'peer' }),
    )
    expect(decodeTx(new Uint8Array([3, 0xc0]), { common })).toBe(BLOB_TX_TYPE_GUARD)
  })
})
