import { Block, type BlockBytes, createBlockFromBytesArray, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { ChainCommons } from './common.ts'
import { seedEncodedTx } from './tx-cache.ts'

/**
 * @ethereumjs's proof-of-stake format check (extra data ≤ 32 bytes, zero nonce, empty uncles) is
 * skipped when building a header: after the merge the extra data's shape is the engine's (a BFT
 * block carries its parent's commit certificate there), and `validateBlock` checks the rest.
 */
export const FORMAT = { skipConsensusFormatValidation: true } as const

/**
 * A block from its RLP fields, decoded with the shared Common of its own fork. Uncles (proof-of-work
 * blocks only) are decoded with the Common of theirs: an uncle may come from the fork before its
 * nephew's (a Berlin uncle in a London block has no base fee), which @ethereumjs's decoder,
 * giving every uncle the block's Common, refuses.
 */
export function decodeBlock(values: BlockBytes, commons: ChainCommons): Block {
  const [header, txs, uncles, ...rest] = values as unknown as [Uint8Array[], unknown, Uint8Array[][], ...unknown[]]
  const common = commons.forHeaderFields(header)
  if (!uncles || uncles.length === 0) return seeded(createBlockFromBytesArray(values, { common, ...FORMAT }), txs)
  const block = createBlockFromBytesArray([header, txs, [], ...rest] as unknown as BlockBytes, { common, ...FORMAT })
  const uncleHeaders = uncles.map((u) => createBlockHeaderFromBytesArray(u, { common: commons.forHeaderFields(u) }))
  return seeded(new Block(block.header, block.transactions, uncleHeaders, block.withdrawals, { common }), txs)
}

/**
 * A typed transaction of a block body is its encoding (`type ‖ rlp(...)`): recorded as the
 * transaction's (`seedEncodedTx`), so its hash, signing hash, size and the transactions trie do
 * not re-serialize it. Legacy ones are RLP lists, re-encoded as before.
 */
function seeded(block: Block, txs: unknown): Block {
  const raw = txs as (Uint8Array | Uint8Array[])[]
  block.transactions.forEach((tx, i) => {
    const bytes = raw[i]
    if (bytes instanceof Uint8Array) seedEncodedTx(tx, bytes)
  })
  return block
}
