import { bytesToHex } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { orderedTrieRoot } from '../../src/state/ordered-trie.ts'

/** The reference: each value put under RLP(i) into an @ethereumjs/mpt trie, as genTransactionsTrieRoot does. */
async function mptRoot(values: Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie()
  for (const [i, v] of values.entries()) await trie.put(RLP.encode(i), v)
  return bytesToHex(trie.root())
}

// Short values give inline (< 32 bytes) nodes, long ones hashed nodes: both kinds of reference.
const value = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ minLength: 1, maxLength: 120 }))

describe('orderedTrieRoot (transactions and receipts roots)', () => {
  it('equals the @ethereumjs/mpt root for random lists, across the RLP key sizes (1, 2 and 3 bytes)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 300 }), async (values) => {
        expect(bytesToHex(orderedTrieRoot(values))).toBe(await mptRoot(values))
      }),
      { numRuns: 60 },
    )
  })

  it('equals it for the sizes where the key length changes (128, 129, 256, 257) and a full block', async () => {
    for (const n of [0, 1, 2, 16, 17, 127, 128, 129, 255, 256, 257, 1500]) {
      const values = Array.from({ length: n }, (_, i) => RLP.encode([i, new Uint8Array(i % 40)]))
      expect(bytesToHex(orderedTrieRoot(values)), `n=${n}`).toBe(await mptRoot(values))
    }
  })
})
