// A damaged entry of the chain store never reads as an absent one (issue 48 §1): a stored value that
// does not decode or does not hash to its key, an entry the store's own indexes promise but that is
// missing, is DB_CORRUPT — told to the sink first — while a block that was never stored is still
// `undefined`, with nothing reported. The bytes are changed in a real store (MemoryKV, the same
// KVStore as LevelDB's) behind the chain's back; the LevelDB table case is test/rpc/db-corruption.
import { Bucket, bucketKey, DbErrorCode, type KVStore, MemoryKV } from '@cairn/db'
import type { CairnError } from '@cairn/utils'
import { uintToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { beforeEach, describe, expect, it } from 'vitest'
import { ChainStore } from '../../src/store/store.ts'
import { ADDRS, buildAndImport, cairnError, KEYS, openChain, transfer, word } from '../helpers.ts'

describe('a damaged chain store', () => {
  let kv: KVStore
  let blocks: Block[]
  let store: ChainStore
  let reported: CairnError[]

  beforeEach(async () => {
    kv = new MemoryKV()
    const chain = await openChain(kv)
    blocks = []
    for (let i = 0; i < 4; i++) {
      const tx = transfer(chain.common, KEYS[0] as Uint8Array, BigInt(i), ADDRS[1] as `0x${string}`, 1n)
      blocks.push((await buildAndImport(chain, [tx])).block)
    }
    reported = []
    // A fresh store over the same KV: nothing cached, the head known as a chain's store knows it.
    store = new ChainStore(kv, chain.commons, (err) => reported.push(err))
    store.tipNumber = () => chain.head.header.number
  })

  const b = (i: number) => blocks[i] as Block
  const key = (bucket: Bucket, hash: Uint8Array) => bucketKey(bucket, hash)
  const expectCorrupt = async (p: Promise<unknown>, what: RegExp) => {
    const err = await cairnError(p)
    expect(err.code).toBe(DbErrorCode.CORRUPT)
    expect(err.message).toMatch(what)
    expect(reported).toContain(err)
  }

  it('a block never stored, or above the head, is absent and reports nothing', async () => {
    expect(await store.getBlock(word(7))).toBeUndefined()
    expect(await store.getHeader(word(7))).toBeUndefined()
    expect(await store.getReceipts(word(7))).toBeUndefined()
    expect(await store.getTransactionCount(word(7))).toBeUndefined()
    expect(await store.getBlockBytes(word(7))).toBeUndefined()
    expect(await store.getBlockByNumber(99n)).toBeUndefined()
    expect(await store.getTxLocation(word(7))).toBeUndefined()
    expect((await store.getBlockByNumber(2n))?.hash()).toEqual(b(1).hash())
    expect(reported).toEqual([])
  })

  it('a header whose key was damaged (missing, the block indexed): by hash and by number', async () => {
    await kv.del(key(Bucket.header, b(0).hash()))
    await expectCorrupt(store.getHeader(b(0).hash()), /header is not stored/)
    await expectCorrupt(store.getBlock(b(0).hash()), /has a body but no header/)
    await expectCorrupt(store.getBlockByNumber(1n), /has a body but no header/)
    await expectCorrupt(store.getBlockBytes(b(0).hash()), /has a body but no header/)
  })

  it('a header whose bytes changed (another header, or garbage) does not hash to its key', async () => {
    await kv.put(key(Bucket.header, b(0).hash()), b(1).header.serialize())
    await kv.put(key(Bucket.header, b(1).hash()), Uint8Array.of(0xc1, 0x80))
    await expectCorrupt(store.getHeader(b(0).hash()), /does not hash to its key/)
    await expectCorrupt(store.getBlock(b(1).hash()), /does not hash to its key/)
  })

  it('a body that is not RLP, or a whole block gone but still indexed', async () => {
    await kv.put(key(Bucket.body, b(0).hash()), Uint8Array.of(0xff, 0x01))
    await expectCorrupt(store.getBlock(b(0).hash()), /does not decode/)
    await expectCorrupt(store.getTransactionCount(b(0).hash()), /is not an RLP list/)
    await kv.del(key(Bucket.header, b(1).hash()))
    await kv.del(key(Bucket.body, b(1).hash()))
    await expectCorrupt(store.getBlock(b(1).hash()), /is indexed, but its block is not stored/)
    // Its number index damaged too: by hash it cannot be told from a block never stored; by
    // number (canonical) it can.
    await kv.del(key(Bucket.hashToNumber, b(1).hash()))
    expect(await store.getBlock(b(1).hash())).toBeUndefined()
    await expectCorrupt(store.getBlockByNumber(2n), /is canonical .* but its header or body is not stored/)
  })

  it('a canonical entry missing at or below the head; none above it', async () => {
    await kv.del(bucketKey(Bucket.canonical, uintToBytes(3n, 8)))
    await expectCorrupt(store.getBlockByNumber(3n), /#3 is at or below the head, but has no canonical entry/)
    await expectCorrupt(store.getCanonicalHash(3n), /no canonical entry/)
    expect(await store.getBlockByNumber(5n)).toBeUndefined()
    // A store no chain keeps (`cairn db check`, tools) knows no head: it reports what it reads.
    const tool = new ChainStore(kv, store.commons)
    expect(await tool.getCanonicalHash(3n)).toBeUndefined()
  })

  it('receipts and tx index entries that do not decode, or receipts gone', async () => {
    await kv.put(key(Bucket.receipts, b(0).hash()), Uint8Array.of(0x01, 0x02, 0x03))
    await expectCorrupt(store.getReceipts(b(0).hash()), /receipts .* do not decode/)
    await kv.del(key(Bucket.receipts, b(1).hash()))
    await expectCorrupt(store.getReceipts(b(1).hash()), /its receipts are not stored/)
    const tx = b(2).transactions[0]?.hash() as Uint8Array
    await kv.put(key(Bucket.txIndex, tx), Uint8Array.of(1, 2, 3))
    await expectCorrupt(store.getTxLocation(tx), /is 3 bytes, not 36/)
  })
})
