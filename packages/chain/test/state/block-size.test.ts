// blockSize (the JSON-RPC `size`, summed from cached encodings) equals block.serialize().length
// for blocks of every transaction type and size, across the RLP length-prefix boundaries.
import { createBlock } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockSize, createChainCommon } from '../../src/index.ts'
import { KEYS, typedTx } from '../helpers.ts'

const common = createChainCommon({ chainId: 1337n, hardfork: 'prague' })
const key = KEYS[0] as Uint8Array

// Data lengths around the prefix boundaries (55/56 bytes, 255/256, 65,535/65,536) and random ones.
const dataLength = fc.oneof(fc.constantFrom(0, 1, 20, 55, 56, 200, 255, 256, 65_535, 65_536), fc.nat({ max: 3000 }))
const txSpec = fc.record({
  type: fc.constantFrom(0, 1, 2),
  length: dataLength,
  nonce: fc.bigInt({ min: 0n, max: 2n ** 40n }),
})

function tx(spec: { type: number; length: number; nonce: bigint }): TypedTransaction {
  const data = new Uint8Array(spec.length).fill(7)
  return typedTx(common, key, spec.type, { nonce: spec.nonce, value: 1n, gasLimit: 10_000_000n, data })
}

describe('blockSize', () => {
  it('is the length of the block encoding', () => {
    fc.assert(
      fc.property(
        fc.array(txSpec, { maxLength: 12 }),
        fc.array(
          fc.record({
            index: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
            amount: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          }),
          { maxLength: 3 },
        ),
        fc.uint8Array({ maxLength: 32 }),
        (specs, withdrawals, extraData) => {
          const block = createBlock(
            {
              header: { number: 1n, extraData, gasLimit: 30_000_000n },
              transactions: specs.map(tx),
              withdrawals: withdrawals.map((w) => ({ ...w, validatorIndex: 0n, address: `0x${'11'.repeat(20)}` })),
            },
            { common },
          )
          expect(blockSize(block)).toBe(block.serialize().length)
          expect(blockSize(block)).toBe(block.serialize().length) // remembered
        },
      ),
      { numRuns: 60 },
    )
  })
})
