import { MemoryKV, WriteBatch } from '@cairn/db'
import { bytesToHex } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, createLegacyTx } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from './helpers.ts'

describe('ChainStore.putBlock with cached transaction encodings', () => {
  it('stores the body as RLP(block.raw()[1..]) and reports the block size as block.serialize()', async () => {
    const chain = await openChain(new MemoryKV())
    const key = KEYS[0] as Uint8Array
    const common = chain.common
    const txs = [
      createLegacyTx({ nonce: 0n, to: ADDRS[1], value: 1n, gasLimit: 21000n, gasPrice: 10n ** 10n }, { common }).sign(
        key,
      ),
      createAccessList2930Tx(
        { nonce: 1n, to: ADDRS[2], value: 2n, gasLimit: 30000n, gasPrice: 10n ** 10n, accessList: [] },
        { common },
      ).sign(key),
      transfer(common, key, 2n, ADDRS[1] as `0x${string}`, 3n),
    ]
    const { block } = await buildAndImport(chain, txs)
    expect(block.transactions.length).toBe(3)
    const batch = new WriteBatch()
    const size = chain.store.putBlock(batch, block, [])
    expect(size).toBe(block.serialize().length)
    const body = await chain.store.bodies.get(block.hash())
    expect(bytesToHex(body as Uint8Array)).toBe(bytesToHex(RLP.encode(block.raw().slice(1) as unknown as Uint8Array[])))
    // The stored block reads back with the same transactions.
    chain.store.clearCaches()
    const read = await chain.store.getBlock(block.hash())
    expect(read?.transactions.map((t) => bytesToHex(t.hash()))).toEqual(txs.map((t) => bytesToHex(t.hash())))
  })
})
