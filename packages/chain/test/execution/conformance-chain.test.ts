// Stored blocks of every fork, on ethereum/execution-apis' test chain (Homestead-era proof of work
// to the BPO forks), differentially against what import computed:
// - replaying a block (debug_traceTransaction, debug_traceBlockBy*) runs it under its own fork's
//   rules: it built every block with a parentBeaconBlockRoot and the parent's ruleset, which
//   @ethereumjs refused before Cancun, and refused a stored blob transaction (no blobs);
// - the stored receipts rebuild each block's receiptTrie: before Byzantium a receipt carries the
//   post-transaction state root, which Cairn dropped (it stored a status).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryKV } from '@cairn/db'
import type { Block } from '@ethereumjs/block'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  decodeReceipts,
  encodeConsensusReceipt,
  encodeReceipts,
  readChainFile,
  replayBlock,
  replayTransaction,
} from '../../src/index.ts'
import { importBlock, openChain } from '../helpers.ts'

const FIXTURES = join(import.meta.dirname, '../../../../conformance/rpc-compat/fixtures')
const GENESIS = JSON.parse(readFileSync(join(FIXTURES, 'genesis.json'), 'utf8')) as unknown

/** A chain on MemoryKV with every block of the file imported (Byzantium at 9, Cancun at timestamp 420). */
async function conformanceChain() {
  const chain = await openChain(new MemoryKV(), GENESIS)
  const blocks: Block[] = []
  for (const block of readChainFile(join(FIXTURES, 'chain.rlp'), chain.commons)) {
    await importBlock(chain, block)
    blocks.push(block)
  }
  return { chain, blocks }
}

/** JSON with bytes as hex (vitest's deep equality on byte arrays is slow: minutes on block 2's logs). */
const plain = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? bytesToHex(x) : typeof x === 'bigint' ? `${x}n` : x))

let chain: Awaited<ReturnType<typeof conformanceChain>>['chain']
let blocks: Awaited<ReturnType<typeof conformanceChain>>['blocks']
beforeAll(async () => {
  ;({ chain, blocks } = await conformanceChain())
}, 120_000)

describe('replay', () => {
  it('gives every transaction of every fork the gas and logs import recorded', async () => {
    const forks = new Set<string>()
    let replayed = 0
    for (const block of blocks) {
      if (block.transactions.length === 0) continue
      forks.add(block.header.common.hardfork())
      const receipts = (await chain.getReceipts(block.hash())) ?? []
      const replay = await replayBlock(chain, block)
      for (const [i, stored] of receipts.entries()) {
        const r = await replay.next()
        expect(r.receipt.cumulativeBlockGasUsed, `block ${block.header.number} tx ${i}`).toBe(stored.cumulativeGasUsed)
        expect(plain(r.receipt.logs)).toBe(plain(stored.logs))
        replayed++
      }
    }
    expect(replayed).toBeGreaterThan(50)
    // Pre-Byzantium, Byzantium … London, the merge, Shanghai, Cancun and later all replayed.
    for (const fork of [
      'homestead',
      'byzantium',
      'london',
      'mergeNetsplitBlock',
      'shanghai',
      'cancun',
      'prague',
      'osaka',
    ])
      expect([...forks]).toContain(fork)
  }, 120_000)

  it('runs a transaction of a fork’s first block under that fork (the parent ran the one before)', async () => {
    for (const block of blocks) {
      const parent = blocks[Number(block.header.number) - 2]
      if (!parent || parent.header.common === block.header.common || block.transactions.length === 0) continue
      const last = block.transactions.length - 1
      const stored = (await chain.getReceipts(block.hash()))?.[last]
      const r = await (await replayTransaction(chain, block, last)).run()
      expect(r.receipt.cumulativeBlockGasUsed, `block ${block.header.number}`).toBe(stored?.cumulativeGasUsed)
    }
  }, 120_000)
})

describe('stored receipts', () => {
  it('rebuild every block’s receiptTrie, pre-Byzantium post-state roots included', async () => {
    let roots = 0
    for (const block of blocks) {
      const receipts = (await chain.getReceipts(block.hash())) ?? []
      expect(receipts).toHaveLength(block.transactions.length)
      const byzantium = block.header.common.gteHardfork('byzantium')
      for (const r of receipts) expect(r.root !== undefined, `block ${block.header.number}`).toBe(!byzantium)
      roots += receipts.filter((r) => r.root).length
      const trie = new MerklePatriciaTrie()
      for (const [i, r] of receipts.entries()) await trie.put(RLP.encode(i), encodeConsensusReceipt(r))
      expect(bytesToHex(trie.root()), `block ${block.header.number}`).toBe(bytesToHex(block.header.receiptTrie))
      // and survive the storage encoding
      expect(plain(decodeReceipts(encodeReceipts(receipts)))).toBe(plain(receipts))
    }
    expect(roots).toBeGreaterThan(0)
  })
})
