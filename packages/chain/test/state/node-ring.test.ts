import { keccak256 } from '@cairn/crypto'
import { MemoryKV, WriteBatch } from '@cairn/db'
import { bytesToHex } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BatchTrie } from '../../src/fast/batch-trie.ts'
import { MAX_RING_NODE_BYTES, NodeRing } from '../../src/state/node-ring.ts'
import { LayerSwitch, StateDB } from '../../src/state/state-db.ts'

const HEADER = 36
const SMALLEST = 4 * (HEADER + MAX_RING_NODE_BYTES)

/** Bytes of any length up to the limit, of any content (fast-check's own arrays are mostly short and small). */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let block = keccak256(Uint8Array.of(seed & 0xff, (seed >> 8) & 0xff, (seed >> 16) & 0xff, seed >>> 24))
  for (let i = 0; i < length; i++) {
    if (i % 32 === 0 && i > 0) block = keccak256(block)
    out[i] = block[i % 32] as number
  }
  return out
}
/** A node and its hash (content-addressed, as the tries' nodes are). */
const nodeArb = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: MAX_RING_NODE_BYTES })), fc.integer())
  .map(([length, seed]) => {
    const bytes = noise(length, seed)
    return { hash: keccak256(bytes), bytes }
  })
const opArb = fc.oneof(
  { arbitrary: fc.record({ set: nodeArb }), weight: 3 },
  { arbitrary: fc.record({ get: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ setHex: nodeArb }), weight: 1 },
)

describe('NodeRing', () => {
  it('answers a node as it was set or not at all, holds the latest ones, and stays bounded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: SMALLEST, max: 4 * SMALLEST }),
        fc.array(opArb, { maxLength: 300, size: 'max' }),
        (capacity, ops) => {
          const ring = new NodeRing(capacity)
          const known: { hash: Uint8Array; bytes: Uint8Array }[] = []
          /**
           * Nodes set since the last read (a read may move entries, so the recency claim restarts),
           * and whether each is claimed: a node already held may stay where it was.
           */
          let recent: { node: { hash: Uint8Array; bytes: Uint8Array }; claimed: boolean }[] = []
          for (const op of ops) {
            if ('get' in op) {
              if (known.length === 0) continue
              const { hash, bytes } = known[op.get % known.length] as (typeof known)[number]
              const got = ring.get(hash)
              if (got !== undefined) {
                expect(got).toEqual(bytes)
                got.fill(0xee) // a copy: the ring's own bytes are untouched
                expect(ring.get(hash)).toEqual(bytes)
              }
              recent = []
            } else {
              const node = 'set' in op ? op.set : op.setHex
              // A node already held may stay where it is (see the test below): no claim on its recency.
              const claimed = !ring.has(node.hash)
              if ('set' in op) ring.set(node.hash, node.bytes)
              else ring.setHex(bytesToHex(node.hash).slice(2), node.bytes)
              expect(ring.has(node.hash)).toBe(true)
              known.push(node)
              recent.push({ node, claimed })
            }
            expect(ring.usedBytes).toBeLessThanOrEqual(capacity)
            // The entries parse from the oldest to the head, and the map holds no more than them.
            const walked = ring.walk()
            expect(walked).toBeGreaterThanOrEqual(0)
            expect(ring.size).toBeLessThanOrEqual(walked)
          }
          // What was set last is all held, up to the ring's size less what a wrap can leave unused
          // (the end it skips, and the part of an entry evicted past what was needed).
          let room = capacity - 2 * (HEADER + MAX_RING_NODE_BYTES)
          const held = []
          for (const { node, claimed } of recent.reverse()) {
            room -= HEADER + node.bytes.length // an unclaimed one may have been written again: its room counts
            if (room < 0) break
            if (claimed) held.push(node)
          }
          // `has`, not `get`: a read of an entry about to be overwritten writes it again, which moves others.
          for (const node of held) expect(ring.has(node.hash)).toBe(true)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('skips nodes over the size limit and keys that are not 32-byte hashes', () => {
    const ring = new NodeRing(SMALLEST)
    const big = new Uint8Array(MAX_RING_NODE_BYTES + 1)
    ring.set(keccak256(big), big)
    expect(ring.get(keccak256(big))).toBeUndefined()
    const node = Uint8Array.of(1, 2, 3)
    const hex = bytesToHex(keccak256(node)).slice(2)
    ring.setHex(`63${hex}`, node) // a code key ('c' + hash) is not a node's
    ring.setHex(hex.replace(/^../, 'zz'), node)
    expect(ring.size).toBe(0)
    ring.setHex(hex.toUpperCase(), node)
    expect(ring.get(keccak256(node))).toEqual(node)
    expect(() => new NodeRing(SMALLEST - 1)).toThrow(/at least/)
  })

  it('writes a node set again at the head only when it is about to be overwritten', () => {
    const ring = new NodeRing(SMALLEST)
    const again = Uint8Array.of(0xc1, 0x80)
    ring.set(keccak256(again), again)
    const used = ring.usedBytes
    ring.set(keccak256(again), again) // held, and nothing is about to overwrite it
    expect(ring.usedBytes).toBe(used)
    // A ring of 31 such nodes, the node set again after every tenth: it is never gone when set.
    for (let i = 0; i < 200; i++) {
      const node = new Uint8Array(100).fill(i)
      ring.set(keccak256(node), node)
      if (i % 10 === 9) {
        expect(ring.has(keccak256(again))).toBe(true)
        ring.set(keccak256(again), again)
      }
    }
    // Written again only when about to go: one copy per wrap, not one per set.
    expect(ring.walk() - ring.size).toBeLessThanOrEqual(1)
    expect(ring.has(keccak256(new Uint8Array(100).fill(0)))).toBe(false)
  })

  it('keeps what keeps being read while newer nodes push older ones out', () => {
    const ring = new NodeRing(SMALLEST)
    const hot = Uint8Array.of(0xc1, 0x80)
    ring.set(keccak256(hot), hot)
    for (let i = 0; i < 200; i++) {
      const node = new Uint8Array(100).fill(i)
      ring.set(keccak256(node), node)
      expect(ring.get(keccak256(hot))).toEqual(hot)
    }
    // Without the reads, the first of those is long gone.
    expect(ring.get(keccak256(new Uint8Array(100).fill(0)))).toBeUndefined()
  })
})

// 32-byte keys, values of 1 to 80 bytes (the short ones make nodes under 32 bytes, inlined).
const changeArb = fc.record({
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  value: fc.option(fc.uint8Array({ minLength: 1, maxLength: 80 }), { freq: 5 }),
})

describe('StateDB with a node ring', () => {
  it('reads back what a store without one reads, through wraps and evictions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(changeArb, { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        async (rounds) => {
          const reference = new MerklePatriciaTrie()
          const kv = new MemoryKV()
          // The smallest ring: a round's nodes wrap it, so reads meet held, evicted and overwritten entries.
          const db = new StateDB(kv, { nodeCacheBytes: SMALLEST })
          const plain = new StateDB(kv)
          const sw = new LayerSwitch(db)
          let root = reference.root()
          for (const round of rounds) {
            const byKey = new Map<string, { key: Uint8Array; value: Uint8Array | null }>()
            for (const c of round) byKey.set(bytesToHex(c.key), c)
            for (const c of byKey.values()) {
              if (c.value === null) await reference.del(c.key)
              else await reference.put(c.key, c.value)
            }
            // A fresh trie each round: no decoded node cached, every read goes through the store.
            const layer = db.layer()
            sw.current = layer
            const trie = new MerklePatriciaTrie({ db: sw, root })
            await new BatchTrie(trie).update([...byKey.values()])
            const batch = new WriteBatch()
            db.commitLayer(layer, batch)
            await batch.write(kv)
            layer.markCommitted()
            sw.current = db
            root = trie.root()
            expect(bytesToHex(root)).toBe(bytesToHex(reference.root()))
            const reader = new BatchTrie(new MerklePatriciaTrie({ db: sw, root }))
            for (const c of byKey.values())
              expect((await reader.get(c.key)) ?? null).toEqual(await reference.get(c.key))
          }
          // Read again, with and without the ring: the same values.
          const probe = new BatchTrie(new MerklePatriciaTrie({ db: new LayerSwitch(plain), root }))
          const ringed = new BatchTrie(new MerklePatriciaTrie({ db: sw, root }))
          for (const round of rounds) {
            for (const c of round) expect(await ringed.get(c.key)).toEqual(await probe.get(c.key))
          }
          if (bytesToHex(root) !== bytesToHex(new MerklePatriciaTrie().root())) expect(db.ring?.hits).toBeGreaterThan(0)
        },
      ),
      { numRuns: 60 },
    )
  })
})
