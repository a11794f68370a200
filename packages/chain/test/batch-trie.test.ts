import { bytesToHex } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchTrie } from '../src/batch-trie.ts'

// 32-byte keys, many sharing prefixes (extensions and deep branches), values of 1 to 80 bytes
// (the short ones make nodes under 32 bytes, which their parent inlines).
const prefix = fc.constantFrom(0, 1, 2, 3, 4, 5, 31)
const keyArb = fc
  .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(0, 1, 2), prefix)
  .map(([bytes, group, len]) => {
    const k = Uint8Array.from(bytes)
    k.fill(0xa0 + group, 0, len)
    return k
  })
const valueArb = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 3 }), fc.uint8Array({ minLength: 1, maxLength: 80 }))
const changeArb = fc.record({ key: keyArb, value: fc.option(valueArb, { freq: 4 }) })

describe('BatchTrie (batched account-trie writes, cached reads)', () => {
  it('gives the root and values of @ethereumjs/mpt put/del one by one, over several batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(changeArb, { maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        async (rounds) => {
          const reference = new MerklePatriciaTrie()
          const batched = new MerklePatriciaTrie()
          const fast = new BatchTrie(batched)
          const seen = new Map<string, Uint8Array>()
          for (const round of rounds) {
            // Distinct keys per batch (the last change of a key wins, as in a state flush).
            const byKey = new Map<string, { key: Uint8Array; value: Uint8Array | null }>()
            for (const c of round) byKey.set(bytesToHex(c.key), c)
            for (const c of byKey.values()) {
              seen.set(bytesToHex(c.key), c.key)
              if (c.value === null) await reference.del(c.key)
              else await reference.put(c.key, c.value)
            }
            await fast.update([...byKey.values()])
            expect(bytesToHex(batched.root())).toBe(bytesToHex(reference.root()))
            for (const key of seen.values()) {
              const want = await reference.get(key)
              expect((await fast.get(key)) ?? null).toEqual(want)
              // The nodes it stored are the trie's own: @ethereumjs reads them back.
              expect(await batched.get(key)).toEqual(want)
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
