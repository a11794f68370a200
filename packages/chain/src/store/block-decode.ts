import { keccak256 } from '@cairn/crypto'
import { Block, type BlockBytes, createBlockFromBytesArray, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { createTxFromBlockBodyData, type TypedTransaction } from '@ethereumjs/tx'
import { equalsBytes } from '@ethereumjs/util'
import type { ChainCommons } from '../rules/common.ts'
import { encodedTx, seedEncodedTx } from '../state/tx-cache.ts'
import { decodeTransaction } from './tx-decode.ts'

/** Transactions this node already decoded, by hash (a pool's `get`): a block may reuse them. */
export type KnownTx = (hash: Uint8Array) => TypedTransaction | undefined

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
export function decodeBlock(values: BlockBytes, commons: ChainCommons, known?: KnownTx): Block {
  const [header, txs, uncles, ...rest] = values as unknown as [Uint8Array[], unknown, Uint8Array[][], ...unknown[]]
  const common = commons.forHeaderFields(header)
  if (Array.isArray(txs) && (!uncles || uncles.length === 0)) return withBody(values, common, known)
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

/**
 * A block of a header, transactions and withdrawals (no uncles), its typed transactions decoded by
 * `decodeTransaction` (the common EIP-1559 form built directly, each body's bytes kept as its
 * encoding); legacy ones, RLP lists, by @ethereumjs. The header and withdrawals are @ethereumjs's
 * (`createBlockFromBytesArray` of the block without its transactions, in the order it checks them).
 *
 * With `known` (a BFT proposal of pooled transactions: each validator fetched and decoded them once
 * already), a transaction this node already holds decoded is taken instead of decoding its body
 * again, with the sender the pool recovered and the encoding it kept. Only an object whose encoding
 * is the body's very bytes and whose rules are the block's (the same shared Common) is taken, so the
 * block is what decoding would give. Transactions with a sender set on the object (dev-mode
 * impersonation) are never taken: decoding their bytes recovers a different sender.
 */
function withBody(values: BlockBytes, common: Common, known: KnownTx | undefined): Block {
  const [header, txs, , ...rest] = values as unknown as [
    Uint8Array[],
    (Uint8Array | Uint8Array[])[],
    unknown,
    ...unknown[],
  ]
  const shell = createBlockFromBytesArray([header, [], [], ...rest] as unknown as BlockBytes, { common, ...FORMAT })
  const transactions = txs.map((data) => {
    if (!(data instanceof Uint8Array)) return createTxFromBlockBodyData(data, { common: shell.common })
    if (known !== undefined) {
      const tx = known(keccak256(data))
      if (
        tx !== undefined &&
        tx.common === shell.common &&
        Object.isFrozen(tx) &&
        !Object.hasOwn(tx, 'getSenderAddress') &&
        equalsBytes(encodedTx(tx), data)
      ) {
        return tx
      }
    }
    return decodeTransaction(data, shell.common)
  })
  return new Block(shell.header, transactions, [], shell.withdrawals, { common: shell.common })
}
