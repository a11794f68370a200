import { encodeReceipt, type TxReceipt } from '@ethereumjs/vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { trieReceipts } from '../../src/store/receipt.ts'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const logArb = fc.tuple(bytes(20), fc.array(bytes(32), { maxLength: 4 }), fc.uint8Array({ maxLength: 300 }))
const receiptArb = fc.record({
  kind: fc.constantFrom('status', 'root'),
  status: fc.constantFrom(0, 1),
  root: bytes(32),
  cumulative: fc.bigInt({ min: 1n, max: 2n ** 64n }),
  bitvector: bytes(256),
  logs: fc.array(logArb, { maxLength: 3 }),
  type: fc.constantFrom(0, 1, 2, 3, 4),
})

describe('trieReceipts (the receipts trie values of a built block)', () => {
  it("gives @ethereumjs/vm's encodeReceipt, byte for byte, for every receipt of a block", () => {
    fc.assert(
      fc.property(fc.array(receiptArb, { minLength: 1, maxLength: 30 }), (list) => {
        const results = list.map((r) => ({
          type: r.type,
          receipt: {
            cumulativeBlockGasUsed: r.cumulative,
            bitvector: r.bitvector,
            logs: r.logs,
            ...(r.kind === 'root' ? { stateRoot: r.root } : { status: r.status }),
          } as TxReceipt,
        }))
        const got = trieReceipts(results)
        for (const [i, r] of results.entries()) expect(got[i]).toEqual(encodeReceipt(r.receipt, r.type))
      }),
      { numRuns: 200 },
    )
  })
})
