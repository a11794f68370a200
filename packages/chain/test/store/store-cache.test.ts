import { MemoryKV } from '@cairn/db'
import type { Block } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import type { Chain } from '../../src/chain.ts'
import { chainParts } from '../../src/chain-parts.ts'
import type { StoredReceipt } from '../../src/store/receipt.ts'
import { CACHED_TRANSACTIONS } from '../../src/store/store.ts'
import { openChain } from '../helpers.ts'

/**
 * A block as the caches see it (its hash and its transactions' count), never stored: a read
 * answers it only while it is cached, and undefined once evicted.
 */
function blockOf(n: number, id: number): { block: Block; receipts: StoredReceipt[] } {
  const hash = new Uint8Array(32)
  new DataView(hash.buffer).setUint32(28, id + 1)
  const block = { hash: () => hash, transactions: new Array(n).fill(undefined) } as unknown as Block
  return { block, receipts: new Array(n).fill(undefined) as StoredReceipt[] }
}

/** Which of `blocks` the caches still answer: [block cached, receipts cached] each. */
async function cached(
  chain: Chain,
  blocks: { block: Block; receipts: StoredReceipt[] }[],
): Promise<[boolean, boolean][]> {
  const out: [boolean, boolean][] = []
  for (const { block, receipts } of blocks) {
    const b = await chain.getBlock(block.hash())
    const r = await chain.getReceipts(block.hash())
    out.push([b === block, r === receipts])
  }
  return out
}

describe('ChainStore caches of decoded blocks and receipts', () => {
  it('hold the 16 most recent blocks of ordinary size', async () => {
    const chain = await openChain(new MemoryKV())
    const blocks = Array.from({ length: 20 }, (_, i) => blockOf(100, i))
    for (const { block, receipts } of blocks) chainParts(chain).store.remember(block, receipts)
    const seen = await cached(chain, blocks)
    expect(seen.slice(0, 4)).toEqual(Array(4).fill([false, false]))
    expect(seen.slice(4)).toEqual(Array(16).fill([true, true]))
  })

  it('hold at most CACHED_TRANSACTIONS transactions: big blocks push the oldest out sooner', async () => {
    const chain = await openChain(new MemoryKV())
    // Blocks of a dev flood on 300M of gas: ~4,000 transfers each; four fit, a fifth does not.
    const blocks = Array.from({ length: 8 }, (_, i) => blockOf(4_000, i))
    for (const { block, receipts } of blocks) chainParts(chain).store.remember(block, receipts)
    expect(4 * 4_001).toBeLessThanOrEqual(CACHED_TRANSACTIONS)
    expect(5 * 4_001).toBeGreaterThan(CACHED_TRANSACTIONS)
    expect(await cached(chain, blocks)).toEqual([...Array(4).fill([false, false]), ...Array(4).fill([true, true])])
  })

  it('keep a full 300M-gas block of transfers; a block past the bound is read from the store instead', async () => {
    const chain = await openChain(new MemoryKV())
    const full = blockOf(Math.floor(300_000_000 / 21_000), 0)
    chainParts(chain).store.remember(full.block, full.receipts)
    expect(await cached(chain, [full])).toEqual([[true, true]])
    const huge = blockOf(CACHED_TRANSACTIONS, 1)
    chainParts(chain).store.remember(huge.block, huge.receipts)
    expect(await cached(chain, [huge])).toEqual([[false, false]])
    // The block that did fit was not pushed out by the one that did not.
    expect(await cached(chain, [full])).toEqual([[true, true]])
  })
})
