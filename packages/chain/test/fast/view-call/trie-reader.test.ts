// The synchronous trie reader (src/view-call/trie-reader.ts): against @ethereumjs/mpt's own reads
// of tries with unhashed keys of any length (so branches hold values, paths are short, and nodes
// under 32 bytes are embedded in their parent), through deletes, with nodes missing from the store
// and with bytes that are no node; then, in view-state.ts, against @ethereumjs/statemanager's
// getStorage on the same stored state: random storage (keys near each other and far apart, values
// small and full words), read at every stored key and at absent ones, over LevelDB-shaped storage
// (the chain's own store).
import { keccak256 } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import {
  Address,
  bigIntToBytes,
  bytesToUnprefixedHex,
  hexToBytes,
  MapDB,
  setLengthLeft,
  ValueEncoding,
} from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TrieReader } from '../../../src/fast/view-call/trie-reader.ts'
import { devGenesis } from '../../../src/index.ts'
import { ADDRS, openChain } from '../../helpers.ts'

/** Keys over a few byte values, of 1 to 5 bytes: many share prefixes, and many are others' prefixes. */
const shortKey = fc
  .uint8Array({ minLength: 1, maxLength: 5 })
  .map((k) => k.map((b) => [0x00, 0x01, 0x10, 0xa5, 0xff][b % 5] as number))
const anyValue = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.uint8Array({ minLength: 1, maxLength: 80 }))
const trieOp = fc.oneof(
  { arbitrary: fc.record({ put: shortKey, value: anyValue }), weight: 4 },
  { arbitrary: fc.record({ del: shortKey }), weight: 1 },
)

/** A trie built by @ethereumjs/mpt, and its node store as the reader sees one (by hash). */
async function buildTrie(ops: ({ put: Uint8Array; value: Uint8Array } | { del: Uint8Array })[]) {
  const db = new MapDB<string, Uint8Array>()
  const trie = new MerklePatriciaTrie({ db, valueEncoding: ValueEncoding.Bytes })
  for (const op of ops) {
    if ('put' in op) await trie.put(op.put, op.value)
    else await trie.del(op.del)
  }
  const store = (db as unknown as { _database: Map<string, Uint8Array> })._database
  return { trie, store, node: (hash: Uint8Array) => store.get(bytesToUnprefixedHex(hash)) }
}

describe('TrieReader', () => {
  it('reads what @ethereumjs/mpt reads: values in leaves and branches, embedded nodes, absent keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(trieOp, { maxLength: 40 }),
        fc.array(shortKey, { maxLength: 10 }),
        async (ops, probes) => {
          const { trie, node } = await buildTrie(ops)
          const root = trie.root()
          const keys = [...ops.map((op) => ('put' in op ? op.put : op.del)), ...probes]
          // Every key, its prefixes and a key one byte longer: paths that end inside others.
          const asked = keys.flatMap((k) => [k, k.subarray(0, k.length - 1), Uint8Array.of(...k, 0x10)])
          const cached = new TrieReader(node)
          const uncached = new TrieReader(node, { cachedBytes: 1 })
          for (const key of asked) {
            const expected = await trie.get(key)
            for (const reader of [cached, uncached]) {
              const got = reader.get(root, key)
              expect(got === null ? null : bytesToHex(got as Uint8Array)).toBe(
                expected === null ? null : bytesToHex(expected),
              )
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('answers undefined, and does not throw, where a node is missing or is no node', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(trieOp, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 60 }),
        async (ops, pick, garbage) => {
          const { trie, store } = await buildTrie(ops)
          const root = trie.root()
          const hashes = [...store.keys()]
          const broken = hashes[pick % hashes.length] as string
          // The same store with one node gone, then with that node's bytes replaced by others.
          for (const replacement of [undefined, garbage]) {
            const reader = new TrieReader((hash) => {
              const id = bytesToUnprefixedHex(hash)
              return id === broken ? replacement : store.get(id)
            })
            for (const op of ops) {
              const key = 'put' in op ? op.put : op.del
              const got = reader.get(root, key)
              const expected = await trie.get(key)
              // Where the walk passes the broken node it must say so (or, for garbage that parses
              // as a node, answer from it); elsewhere it answers as before.
              if (broken === bytesToUnprefixedHex(root) && replacement === undefined) expect(got).toBeUndefined()
              if (got === undefined) continue
              if (replacement === undefined) {
                expect(got === null ? null : bytesToHex(got)).toBe(expected === null ? null : bytesToHex(expected))
              } else {
                expect(got === null || got instanceof Uint8Array).toBe(true)
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('reads the empty trie as empty and an unknown root as not at hand', () => {
    const reader = new TrieReader(() => undefined)
    expect(reader.get(keccak256(Uint8Array.of(0x80)), Uint8Array.of(1))).toBeNull()
    expect(reader.get(new Uint8Array(32).fill(7), Uint8Array.of(1))).toBeUndefined()
  })
})

const HOLDER = '0x00000000000000000000000000000000005107e5' as Hex
const EMPTY_HOLDER = '0x00000000000000000000000000000000005107e6' as Hex

const slotKey = fc.oneof(
  fc.bigInt({ min: 0n, max: 40n }),
  fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  fc.bigInt({ min: 1n << 255n, max: (1n << 255n) + 20n }),
)
const slotValue = fc.oneof(fc.bigInt({ min: 1n, max: 255n }), fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }))
const word = (v: bigint) => bytesToHex(setLengthLeft(bigIntToBytes(v), 32))

describe('view calls: storage read straight from the trie', () => {
  it('reads what the state manager reads, present and absent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(slotKey, slotValue), { selector: ([k]) => k, maxLength: 60 }),
        fc.array(slotKey, { maxLength: 20 }),
        async (slots, absent) => {
          const genesis = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
          genesis.alloc[HOLDER] = {
            balance: '0x0',
            code: '0x00',
            storage: Object.fromEntries(slots.map(([k, v]) => [word(k), word(v)])),
          }
          genesis.alloc[EMPTY_HOLDER] = { balance: '0x0', code: '0x00' }
          const kv = new MemoryKV()
          const chain = await openChain(kv, genesis)
          try {
            const { header } = chain.head
            const full = chain.stateAt(header.stateRoot)
            const state = chain.viewState(header)
            for (const who of [HOLDER, EMPTY_HOLDER, ADDRS[0] as Hex]) {
              const address = new Address(hexToBytes(who))
              await state.load(address)
              const read = state.storageNow(address)
              if (!read) throw new Error('the account is loaded')
              for (const k of [...slots.map(([key]) => key), ...absent]) {
                const key = setLengthLeft(bigIntToBytes(k), 32)
                const mine = read(key)
                expect(mine).not.toBeUndefined() // every node was in the store
                expect(bytesToHex(mine as Uint8Array)).toBe(bytesToHex(await full.getStorage(address, key)))
              }
            }
          } finally {
            await kv.close()
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
