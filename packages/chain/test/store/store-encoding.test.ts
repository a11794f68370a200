import { MemoryKV, WriteBatch } from '@cairn/db'
import { bytesToHex } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, createLegacyTx } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { ADDRS, buildAndImport, KEYS, openChain, transfer } from '../helpers.ts'

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
    const size = chainParts(chain).store.putBlock(batch, block, [])
    expect(size).toBe(block.serialize().length)
    const body = await chainParts(chain).store.bodies.get(block.hash())
    expect(bytesToHex(body as Uint8Array)).toBe(bytesToHex(RLP.encode(block.raw().slice(1) as unknown as Uint8Array[])))
    // The stored block reads back with the same transactions.
    chainParts(chain).store.clearCaches()
    const read = await chain.getBlock(block.hash())
    expect(read?.transactions.map((t) => bytesToHex(t.hash()))).toEqual(txs.map((t) => bytesToHex(t.hash())))
  })
})

describe('ChainStore.getBlockBytes', () => {
  it('assembles block.serialize() from the stored header and body, for every length of prefix', async () => {
    const chain = await openChain(new MemoryKV())
    const key = KEYS[0] as Uint8Array
    const to = ADDRS[1] as `0x${string}`
    // bodies: empty (a one-byte list prefix), 1 and 40 transfers (long lists), one transfer with
    // 70,000 bytes of data (a block over 65,535 bytes: three length bytes)
    const blocks = [[], [0], Array.from({ length: 40 }, () => 0), [70_000]]
    let nonce = 0n
    for (const sizes of blocks) {
      const txs = sizes.map((size) =>
        transfer(chain.common, key, nonce++, to, 1n, { data: new Uint8Array(size).fill(1), gasLimit: 3_000_000n }),
      )
      const { block } = await buildAndImport(chain, txs)
      expect(block.transactions.length).toBe(sizes.length)
      const bytes = await chain.getBlockBytes(block.hash())
      expect(bytesToHex(bytes as Uint8Array)).toBe(bytesToHex(block.serialize()))
      const byNumber = await chain.getBlockBytesByNumber(block.header.number)
      expect(bytesToHex(byNumber as Uint8Array)).toBe(bytesToHex(block.serialize()))
    }
    expect((await chain.getBlockBytesByNumber(4n))?.length).toBeGreaterThan(65_535)
    expect(await chain.getBlockBytes(new Uint8Array(32))).toBeUndefined()
    expect(await chain.getBlockBytesByNumber(10_000n)).toBeUndefined()
  })
})

describe('ChainStore.getTransactionCount', () => {
  it('counts the transactions of a stored body without decoding it, cached or not, for every length of prefix', async () => {
    const chain = await openChain(new MemoryKV())
    const key = KEYS[0] as Uint8Array
    const to = ADDRS[1] as `0x${string}`
    // Empty (a one-byte list prefix), one, 60 transfers (a long list), one with 70,000 bytes of data.
    const blocks = [[], [0], Array.from({ length: 60 }, () => 0), [70_000]]
    let nonce = 0n
    for (const sizes of blocks) {
      const txs = sizes.map((size) =>
        transfer(chain.common, key, nonce++, to, 1n, { data: new Uint8Array(size).fill(1), gasLimit: 3_000_000n }),
      )
      const { block } = await buildAndImport(chain, txs)
      expect(await chain.getTransactionCount(block.hash())).toBe(sizes.length)
      chainParts(chain).store.clearCaches()
      expect(await chain.getTransactionCount(block.hash())).toBe(sizes.length)
    }
    expect(await chain.getTransactionCount(new Uint8Array(32))).toBeUndefined()
  })
})
