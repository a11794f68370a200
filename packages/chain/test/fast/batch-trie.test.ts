import { keccak256 } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchTrie } from '../../src/fast/batch-trie.ts'
import { TimeSlice } from '../../src/time-slice.ts'

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

describe('BatchTrie node cache and store', () => {
  const keys = Array.from({ length: 64 }, (_, i) => Uint8Array.from({ length: 32 }, (_, j) => (i * 37 + j * 11) & 0xff))
  const value = (i: number) => Uint8Array.of(0xc0 + (i % 8), i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)

  it('checks a cached node against the whole hash: a node cached under the same 6-byte key is not used', async () => {
    const trie = new MerklePatriciaTrie()
    const fast = new BatchTrie(trie)
    await fast.update(keys.map((key, i) => ({ key, value: value(i) })))
    const root = trie.root()
    // Replace the root's cache entry with a different node under a hash that differs only in its
    // last byte (same cache key): a lookup by the cache key alone would walk the wrong node.
    const nodes = (fast as unknown as { nodes: Map<number, { hash: Uint8Array; node: unknown }> }).nodes
    const entry = [...nodes.entries()].find(([, c]) => bytesToHex(c.hash) === bytesToHex(root))
    expect(entry).toBeDefined()
    const forged = root.slice()
    forged[31] = (forged[31] as number) ^ 1
    nodes.set((entry as [number, unknown])[0], { hash: forged, node: [new Uint8Array(1), new Uint8Array(1)] })
    for (const [i, key] of keys.entries()) expect(await fast.get(key)).toEqual(value(i))
  })

  it('proves new keys absent from the nodes it wrote, leaves included, without reading the store', async () => {
    const trie = new MerklePatriciaTrie()
    const fast = new BatchTrie(trie)
    // 3,000 accounts, then 3,000 keys not in the trie: about every other one ends its walk on the
    // leaf of an account sharing its path, which a read compares and answers null from.
    const stored = Array.from({ length: 3000 }, (_, i) => keccak256(Uint8Array.of(1, i >> 8, i & 255)))
    const absent = Array.from({ length: 3000 }, (_, i) => keccak256(Uint8Array.of(2, i >> 8, i & 255)))
    await fast.update(stored.map((key, i) => ({ key, value: value(i) })))
    const db = trie.database().db
    const get = db.get.bind(db)
    let reads = 0
    db.get = (key, opts) => {
      reads++
      return get(key, opts)
    }
    for (const key of absent) expect(await fast.get(key)).toBeNull()
    for (const [i, key] of stored.entries()) expect(await fast.get(key)).toEqual(value(i))
    expect(reads).toBe(0)
    // A BatchTrie that did not write them reads each node once, then has it.
    const other = new BatchTrie(trie)
    for (const key of absent) expect(await other.get(key)).toBeNull()
    const first = reads
    expect(first).toBeGreaterThan(0)
    for (const key of absent) expect(await other.get(key)).toBeNull()
    expect(reads).toBe(first)
  })

  it('folds a branch left with one child built in the same batch (a leaf not cached and not yet stored)', async () => {
    const reference = new MerklePatriciaTrie()
    const trie = new MerklePatriciaTrie()
    const fast = new BatchTrie(trie)
    // Two keys under one branch; then one is deleted and the other rewritten: the branch folds
    // into the new leaf, which exists only in the batch's writes.
    const a = new Uint8Array(32).fill(0x11)
    const b = new Uint8Array(32).fill(0x11)
    b[31] = 0x12
    for (const [k, v] of [
      [a, value(1)],
      [b, value(2)],
    ] as const)
      await reference.put(k, v)
    await fast.update([
      { key: a, value: value(1) },
      { key: b, value: value(2) },
    ])
    await reference.del(a)
    await reference.put(b, value(3))
    await fast.update([
      { key: a, value: null },
      { key: b, value: value(3) },
    ])
    expect(bytesToHex(trie.root())).toBe(bytesToHex(reference.root()))
    expect(await fast.get(b)).toEqual(value(3))
  })

  it('writes nodes to the store under the checkpoint layer: a reverted checkpoint restores the old root and values', async () => {
    const trie = new MerklePatriciaTrie()
    const fast = new BatchTrie(trie)
    await fast.update(keys.slice(0, 32).map((key, i) => ({ key, value: value(i) })))
    const before = trie.root()
    trie.checkpoint()
    await fast.update(keys.map((key, i) => ({ key, value: i < 16 ? null : value(i + 1) })))
    const during = trie.root()
    // The new nodes are in the trie's store itself, readable without the checkpoint's diff.
    expect(await trie.database().db.get(bytesToHex(during).slice(2))).toBeDefined()
    await trie.revert()
    expect(bytesToHex(trie.root())).toBe(bytesToHex(before))
    for (const [i, key] of keys.entries()) expect(await fast.get(key)).toEqual(i < 32 ? value(i) : null)
    // And the reverted state is still reachable by its root (nodes are content-addressed).
    trie.root(during)
    for (const [i, key] of keys.entries()) expect(await fast.get(key)).toEqual(i < 16 ? null : value(i + 1))
    expect(await trie.get(keys[20] as Uint8Array)).toEqual(value(21))
  })
})

describe('BatchTrie update in time slices', () => {
  it('lets other work run between subtries, with the same root, and readers see the old root until it ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(changeArb, { minLength: 20, maxLength: 40 }),
        fc.array(changeArb, { minLength: 2, maxLength: 60 }),
        async (first, second) => {
          const distinct = (cs: typeof first) => [...new Map(cs.map((c) => [bytesToHex(c.key), c])).values()]
          const plain = new MerklePatriciaTrie()
          const sliced = new MerklePatriciaTrie()
          const fastPlain = new BatchTrie(plain)
          const fastSliced = new BatchTrie(sliced)
          await fastPlain.update(distinct(first))
          await fastSliced.update(distinct(first))
          await fastPlain.update(distinct(second))
          const probe = second[0] as (typeof second)[number]
          const old = await fastSliced.get(probe.key)

          // A slice that is always used up: a turn at every check of the upper levels. Each turn
          // reads the trie, as a request answered between slices would.
          let updating = true
          const reads: (Uint8Array | null)[] = []
          const tick = () => {
            if (!updating) return
            void fastSliced.get(probe.key).then((v) => reads.push(v))
            setImmediate(tick)
          }
          setImmediate(tick)
          await fastSliced.update(distinct(second), new TimeSlice(0))
          updating = false
          await new Promise((r) => setImmediate(r))

          expect(reads.length).toBeGreaterThan(0)
          for (const v of reads) expect(v).toEqual(old) // the root moves only at the end
          expect(bytesToHex(sliced.root())).toBe(bytesToHex(plain.root()))
          for (const c of second) expect(await fastSliced.get(c.key)).toEqual(await fastPlain.get(c.key))
        },
      ),
      { numRuns: 60 },
    )
  })
})
