// Extra parents in `extraData` (dag-header.ts): one byte form per parent set, Ethereum's header
// encoding untouched (`parentHash` the selected parent), the header hash committing to every parent.
import { createBlockHeader, createBlockHeaderFromRLP } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { hashFromTestId } from '../../src/ghostdag/hash.ts'
import {
  BlockDag,
  type BlockHash,
  checkSelectedParent,
  DAG_EXTRA_DATA_VERSION,
  dagParentsOfHeader,
  decodeDagExtraData,
  encodeDagExtraData,
  GhostdagErrorCode,
  MemoryDagStore,
  MemoryReachabilityStore,
} from '../../src/ghostdag/index.ts'

const hash = (i: number): BlockHash => `0x${i.toString(16).padStart(2, '0').repeat(32)}`
const invalid = expect.objectContaining({ code: GhostdagErrorCode.INVALID_HEADER })

describe('extra parents in extraData', () => {
  it('encode in ascending order behind the version byte, and decode back', () => {
    const parents = [hash(9), hash(3), hash(200)]
    const data = encodeDagExtraData(parents)
    expect(data[0]).toBe(DAG_EXTRA_DATA_VERSION)
    // The version, a long-list prefix (0xf8, 99) and three 33-byte strings.
    expect(data.length).toBe(1 + 2 + 3 * 33)
    expect(decodeDagExtraData(data)).toEqual([hash(3), hash(9), hash(200)])
    expect(encodeDagExtraData([])).toEqual(new Uint8Array())
    expect(decodeDagExtraData(new Uint8Array())).toEqual([])
    expect(() => encodeDagExtraData([hash(1), hash(1)])).toThrow(invalid)
  })

  it('refuse every other byte form', () => {
    const rlp = (items: Uint8Array[] | Uint8Array) => {
      const r = RLP.encode(items)
      return Uint8Array.from([DAG_EXTRA_DATA_VERSION, ...r])
    }
    const h = (i: number) => hexToBytes(hash(i))
    expect(() => decodeDagExtraData(Uint8Array.from([0x00, ...RLP.encode([h(1)])]))).toThrow(invalid)
    expect(() => decodeDagExtraData(rlp([h(2), h(1)]))).toThrow(invalid) // not ascending
    expect(() => decodeDagExtraData(rlp([h(1), h(1)]))).toThrow(invalid) // twice
    expect(() => decodeDagExtraData(rlp([h(1).subarray(1)]))).toThrow(invalid) // 31 bytes
    expect(() => decodeDagExtraData(rlp([]))).toThrow(invalid) // an empty list (use empty extraData)
    expect(() => decodeDagExtraData(rlp(h(1)))).toThrow(invalid) // a string, not a list
    expect(() => decodeDagExtraData(Uint8Array.from([...rlp([h(1)]), 0]))).toThrow(invalid) // trailing byte
    expect(() => decodeDagExtraData(Uint8Array.from([DAG_EXTRA_DATA_VERSION]))).toThrow(invalid)
  })

  it("leave an Ethereum header's RLP intact: parentHash is the selected parent, the hash commits to all parents", () => {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.London })
    const extra = Array.from({ length: 9 }, (_, i) => hash(i + 10))
    const fields = {
      parentHash: hexToBytes(hash(1)),
      number: 7n,
      gasLimit: 30_000_000n,
      timestamp: 1_700_000_000n,
      difficulty: 123_456n,
      nonce: hexToBytes('0x0102030405060708'),
      baseFeePerGas: 7n,
      extraData: encodeDagExtraData(extra),
    }
    // Cairn decodes headers without Ethereum mainnet's 32-byte proof-of-work cap on extraData.
    const opts = { common, skipConsensusFormatValidation: true }
    const header = createBlockHeader(fields, opts)
    const decoded = createBlockHeaderFromRLP(header.serialize(), opts)
    expect(bytesToHex(decoded.parentHash)).toBe(hash(1))
    expect(decoded.number).toBe(7n)
    expect(bytesToHex(decoded.nonce)).toBe('0x0102030405060708')
    expect(decoded.hash()).toEqual(header.hash())
    expect(dagParentsOfHeader(decoded, 16)).toEqual([hash(1), ...extra])
    // Another extra parent, another header hash.
    const other = createBlockHeader({ ...fields, extraData: encodeDagExtraData([...extra.slice(1), hash(99)]) }, opts)
    expect(other.hash()).not.toEqual(header.hash())
    // What ethereumjs's mainnet rule would say (why Cairn's decoding skips it).
    expect(() => createBlockHeader(fields, { common })).toThrow(/extra data/)
  })

  it('refuse a parentHash named again, and more parents than allowed', () => {
    const header = { parentHash: hexToBytes(hash(1)), extraData: encodeDagExtraData([hash(1), hash(2)]) }
    expect(() => dagParentsOfHeader(header, 16)).toThrow(invalid)
    const many = { parentHash: hexToBytes(hash(1)), extraData: encodeDagExtraData([hash(2), hash(3)]) }
    expect(dagParentsOfHeader(many, 3)).toHaveLength(3)
    expect(() => dagParentsOfHeader(many, 2)).toThrow(invalid)
  })

  it('refuse a parentHash that is not the selected parent of the parents', () => {
    const h = hashFromTestId
    const bd = new BlockDag(
      { k: 3, genesis: h('G') },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    bd.addBlock(h('A'), [h('G')], 1n)
    bd.addBlock(h('B'), [h('G')], 1n)
    bd.addBlock(h('C'), [h('B')], 1n)
    // C has the most blue work: it must be parentHash.
    expect(() => checkSelectedParent(bd.ghostdag, [h('C'), h('A')])).not.toThrow()
    expect(() => checkSelectedParent(bd.ghostdag, [h('A'), h('C')])).toThrow(invalid)
    // Equal blue work: the higher hash (B over A).
    expect(() => checkSelectedParent(bd.ghostdag, [h('B'), h('A')])).not.toThrow()
    expect(() => checkSelectedParent(bd.ghostdag, [h('A'), h('B')])).toThrow(invalid)
  })

  it('BlockDag refuses more parents than maxParents and a mergeset above the size limit, unchanged', () => {
    const h = hashFromTestId
    const bd = new BlockDag(
      { k: 10, genesis: h('G'), maxParents: 3, mergesetSizeLimit: 3 },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    for (const id of ['A', 'B', 'C', 'D']) bd.addBlock(h(id), [h('G')], 1n)
    expect(() => bd.addBlock(h('E'), ['A', 'B', 'C', 'D'].map(h), 1n)).toThrow(invalid)
    // Three parents: a mergeset of three, at the limit.
    bd.addBlock(h('X'), ['A', 'B', 'C'].map(h), 1n)
    expect(bd.get(h('X'))!.mergesetBlues.length + bd.get(h('X'))!.mergesetReds.length).toBe(3)
    bd.addBlock(h('D2'), [h('D')], 1n)
    bd.addBlock(h('D3'), [h('D2')], 1n)
    // Y: selected parent X (more blue work than D3), merging D, D2, D3: a mergeset of 4.
    expect(() => bd.addBlock(h('Y'), [h('X'), h('D3')], 1n)).toThrow(invalid)
    expect(bd.has(h('Y'))).toBe(false)
    expect(bd.sink).toBe(h('X'))
    bd.addBlock(h('Y'), [h('X'), h('D')], 1n)
    expect(bd.get(h('Y'))!.mergesetBlues.length + bd.get(h('Y'))!.mergesetReds.length).toBe(2)
  })
})
