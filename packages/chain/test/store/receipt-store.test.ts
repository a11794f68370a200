import { MemoryKV, WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError } from '@cairn/utils'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, createLegacyTx } from '@ethereumjs/tx'
import { Bloom } from '@ethereumjs/vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import {
  ChainErrorCode,
  createChainCommon,
  decodeReceipts,
  encodeConsensusReceipt,
  encodeReceipts,
  logsBloom,
  type RawLog,
  type StoredReceipt,
} from '../../src/index.ts'
import { ChainStore } from '../../src/store/store.ts'
import { ADDRS, buildAndImport, call, contractsGenesis, KEYS, LOG_ADDR, openChain, transfer, word } from '../helpers.ts'

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })
const arbLog: fc.Arbitrary<RawLog> = fc.tuple(bytes(20, 20), fc.array(bytes(32, 32), { maxLength: 4 }), bytes(0, 96))
const arbReceipt: fc.Arbitrary<StoredReceipt> = fc.record(
  {
    type: fc.constantFrom(0, 1, 2, 3, 4),
    status: fc.constantFrom(0 as const, 1 as const),
    /** Pre-Byzantium receipts: the post-state root. */
    root: bytes(32, 32),
    cumulativeGasUsed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    logs: fc.array(arbLog, { maxLength: 5 }),
    from: bytes(20, 20),
  },
  { requiredKeys: ['type', 'status', 'cumulativeGasUsed', 'logs', 'from'] },
)

/** Plain values, so that Buffer/subarray differences do not matter. */
const norm = (rs: StoredReceipt[]) =>
  rs.map((r) => ({
    ...r,
    ...(r.root ? { root: bytesToHex(r.root) } : {}),
    from: bytesToHex(r.from),
    logs: r.logs.map(([a, t, d]) => [bytesToHex(a), t.map(bytesToHex), bytesToHex(d)]),
  }))

describe('stored receipts encoding', () => {
  it('decode(encode(x)) = x for any list of receipts', () => {
    fc.assert(
      fc.property(fc.array(arbReceipt, { maxLength: 6 }), (receipts) => {
        const decoded = decodeReceipts(encodeReceipts(receipts))
        expect(norm(decoded)).toEqual(norm(receipts))
      }),
      { numRuns: 300 },
    )
  })

  it('is deterministic and injective on the fields it keeps', () => {
    fc.assert(
      fc.property(arbReceipt, arbReceipt, (a, b) => {
        const same =
          JSON.stringify(norm([a]), (_, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
          JSON.stringify(norm([b]), (_, v) => (typeof v === 'bigint' ? v.toString() : v))
        expect(bytesToHex(encodeReceipts([a])) === bytesToHex(encodeReceipts([b]))).toBe(same)
      }),
      { numRuns: 200 },
    )
  })

  it('edge values: empty list, zero gas, status 0, type 0', () => {
    expect(decodeReceipts(encodeReceipts([]))).toEqual([])
    const r: StoredReceipt = { type: 0, status: 0, cumulativeGasUsed: 0n, logs: [], from: new Uint8Array(20) }
    expect(norm(decodeReceipts(encodeReceipts([r])))).toEqual(norm([r]))
  })

  it('reads lists stored before pre-Byzantium roots were kept (5 fields, a status)', () => {
    const from = new Uint8Array(20).fill(7)
    const old = RLP.encode([[Uint8Array.of(2), Uint8Array.of(1), Uint8Array.of(0x52, 0x08), [], from]])
    expect(norm(decodeReceipts(old))).toEqual(
      norm([{ type: 2, status: 1, cumulativeGasUsed: 21_000n, logs: [], from }]),
    )
  })

  it('garbage is CHAIN_CORRUPT', () => {
    for (const bad of [
      RLP.encode(Uint8Array.of(1, 2, 3)),
      RLP.encode([[Uint8Array.of(1), Uint8Array.of(1)]]),
      RLP.encode([Uint8Array.of(5)]),
      // 6 fields: the second must be a 32-byte root
      RLP.encode([[Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(1), [], new Uint8Array(20), Uint8Array.of(1)]]),
    ]) {
      let caught: unknown
      try {
        decodeReceipts(bad)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(CairnError)
      expect((caught as CairnError).code).toBe(ChainErrorCode.CORRUPT)
    }
  })
})

describe('logsBloom', () => {
  it("contains each log's address and topics", () => {
    fc.assert(
      fc.property(fc.array(arbLog, { maxLength: 6 }), (logs) => {
        const bloom = new Bloom(logsBloom(logs))
        for (const [address, topics] of logs) {
          expect(bloom.check(address)).toBe(true)
          for (const t of topics) expect(bloom.check(t)).toBe(true)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('is 256 zero bytes without logs, and sets exactly the bits of its entries', () => {
    expect(logsBloom([])).toEqual(new Uint8Array(256))
    const address = new Uint8Array(20).fill(0x11)
    const topic = word(0x22)
    const bloom = logsBloom([[address, [topic], new Uint8Array([1, 2, 3])]])
    const expected = new Bloom()
    expected.add(address)
    expected.add(topic)
    expect(bloom).toEqual(expected.bitvector)
    // data is not in the bloom
    expect(new Bloom(bloom).check(new Uint8Array([1, 2, 3]))).toBe(false)
    // at most 3 bits per entry
    const ones = bloom.reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0)
    expect(ones).toBeGreaterThan(0)
    expect(ones).toBeLessThanOrEqual(6)
    expect(new Bloom(bloom).check(new Uint8Array(20).fill(0x33))).toBe(false)
  })
})

describe('encodeConsensusReceipt', () => {
  const base: StoredReceipt = {
    type: 2,
    status: 1,
    cumulativeGasUsed: 21_000n,
    logs: [[new Uint8Array(20).fill(9), [word(1)], Uint8Array.of(0xde, 0xad)]],
    from: new Uint8Array(20),
  }

  it('a typed receipt starts with its type byte, followed by RLP [status, gas, bloom, logs]', () => {
    for (const type of [1, 2, 3, 4]) {
      const enc = encodeConsensusReceipt({ ...base, type })
      expect(enc[0]).toBe(type)
      const [status, gas, bloom, logs] = RLP.decode(enc.subarray(1)) as [Uint8Array, Uint8Array, Uint8Array, RawLog[]]
      expect(bytesToHex(status)).toBe('0x01')
      expect(bytesToHex(gas)).toBe('0x5208')
      expect(bloom).toEqual(logsBloom(base.logs))
      expect(bytesToHex(logs[0]?.[2] as Uint8Array)).toBe('0xdead')
    }
  })

  it('a pre-Byzantium receipt carries its post-state root where the status goes', () => {
    const root = word(0xab)
    const [first, gas] = RLP.decode(encodeConsensusReceipt({ ...base, type: 0, status: 1, root })) as Uint8Array[]
    expect(first).toEqual(root)
    expect(bytesToHex(gas as Uint8Array)).toBe('0x5208')
  })

  it('a legacy receipt is the bare RLP list; a failed one has an empty status', () => {
    const enc = encodeConsensusReceipt({ ...base, type: 0, status: 0 })
    expect(enc[0]).toBeGreaterThanOrEqual(0xc0)
    const [status] = RLP.decode(enc) as Uint8Array[]
    expect(status?.length).toBe(0)
    expect(encodeConsensusReceipt({ ...base, type: 2 }).subarray(1)).toEqual(
      encodeConsensusReceipt({ ...base, type: 0 }),
    )
  })

  it("a block's stored receipts rebuild its receiptTrie and logsBloom", async () => {
    const chain = await openChain(undefined, contractsGenesis())
    const c = chain.common
    const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
    const legacy = createLegacyTx(
      { nonce: 0n, to: LOG_ADDR, gasLimit: 100_000n, gasPrice: 10n ** 10n, data: word(7) },
      { common: c },
    ).sign(K1)
    const al = createAccessList2930Tx(
      { nonce: 1n, to: ADDRS[2], value: 1n, gasLimit: 30_000n, gasPrice: 10n ** 10n, accessList: [] },
      { common: c },
    ).sign(K1)
    const { block } = await buildAndImport(chain, [
      call(c, K0, 0n, LOG_ADDR, word(5)),
      legacy,
      transfer(c, K0, 1n, ADDRS[2] as `0x${string}`, 1n),
      al,
    ])
    expect(block.transactions).toHaveLength(4)
    const receipts = (await chainParts(chain).store.receipts.get(block.hash())) as StoredReceipt[]
    expect(receipts.map((r) => r.type)).toEqual([2, 0, 2, 1])
    const trie = new MerklePatriciaTrie()
    for (const [i, r] of receipts.entries()) await trie.put(RLP.encode(i), encodeConsensusReceipt(r))
    expect(bytesToHex(trie.root())).toBe(bytesToHex(block.header.receiptTrie))
    expect(bytesToHex(logsBloom(receipts.flatMap((r) => r.logs)))).toBe(bytesToHex(block.header.logsBloom))
    expect(block.header.logsBloom.some((b) => b !== 0)).toBe(true)
  })
})

describe('ChainStore', () => {
  const common = createChainCommon({ chainId: 1n, hardfork: 'prague' })

  it('tx locations round-trip, including indexes above 255 and 65535', async () => {
    const kv = new MemoryKV()
    const store = new ChainStore(kv, common)
    for (const index of [0, 1, 255, 256, 65_536, 4_294_967_295]) {
      const txHash = word(index % 251)
      const blockHash = word(0xee)
      await store.txIndex.put(txHash, { blockHash, index })
      const loc = await store.txIndex.get(txHash)
      expect(loc?.index).toBe(index)
      expect(bytesToHex(loc?.blockHash as Uint8Array)).toBe(bytesToHex(blockHash))
    }
    expect(await store.getTxLocation(word(0x99))).toBeUndefined()
    // an index entry whose block is not canonical (left by a rollback) is not a location
    expect(await store.getTxLocation(word(0))).toBeUndefined()
  })

  it('keeps the canonical index in number order (big-endian keys)', async () => {
    const kv = new MemoryKV()
    const store = new ChainStore(kv, common)
    const batch = new WriteBatch()
    for (const n of [256n, 1n, 65_536n, 2n, 255n, 2n ** 40n]) store.canonical.put(n, word(Number(n % 200n)), batch)
    await batch.write(kv)
    const seen: bigint[] = []
    for await (const [n] of store.canonical.entries()) seen.push(n)
    expect(seen).toEqual([1n, 2n, 255n, 256n, 65_536n, 2n ** 40n])
    expect(await store.getCanonicalHash(2n ** 40n)).toEqual(word(Number(2n ** 40n % 200n)))
  })

  it('reads back blocks, headers and receipts written through putBlock from a fresh store', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv)
    const { block, receipts } = await buildAndImport(chain, [
      transfer(chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n),
    ])
    const fresh = new ChainStore(kv, chain.common)
    expect((await fresh.getBlock(block.hash()))?.serialize()).toEqual(block.serialize())
    expect((await fresh.getHeader(block.hash()))?.hash()).toEqual(block.hash())
    expect(norm((await fresh.getReceipts(block.hash())) ?? [])).toEqual(norm(receipts))
    expect(await fresh.getBlock(word(1))).toBeUndefined()
    expect(await fresh.getHeader(word(1))).toBeUndefined()
    let caught: unknown
    try {
      await fresh.mustGetBlock(word(1))
    } catch (err) {
      caught = err
    }
    expect((caught as CairnError).code).toBe(ChainErrorCode.CORRUPT)
  })

  it('unsetCanonical removes the canonical entry and the tx index of the block', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv)
    const tx = transfer(chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n)
    const { block } = await buildAndImport(chain, [tx])
    const batch = new WriteBatch()
    chainParts(chain).store.unsetCanonical(batch, block)
    await batch.write(kv)
    // The raw entry: the head still names block 1, so a checked read (getCanonicalHash) calls its
    // missing entry damage (store-corruption.test.ts); a reorg moves the head in the same batch.
    expect(await chainParts(chain).store.canonical.get(1n)).toBeUndefined()
    expect(await chain.getTxLocation(tx.hash())).toBeUndefined()
    expect(await chain.getCanonicalHash(0n)).toEqual(chain.genesisBlock.hash())
  })
})
