import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { encodedTx } from './tx-cache.ts'

const sizes = new WeakMap<Block, number>()

/** Bytes of an RLP string or list prefix for a payload of `length` bytes. */
function prefixLength(length: number): number {
  if (length < 56) return 1
  if (length < 0x100) return 2
  if (length < 0x10000) return 3
  if (length < 0x1000000) return 4
  let bytes = 0
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes++
  return 1 + bytes
}

/** The encoded length of an item of `length` payload bytes (a string of ≥ 2 bytes, or a list). */
export const rlpItemLength = (length: number) => prefixLength(length) + length
const item = rlpItemLength

/**
 * The bytes `tx` adds to a block body's transaction list (from its cached encoding): a typed
 * transaction is a byte string there, a legacy one its own list.
 */
export function bodyTxLength(tx: TypedTransaction): number {
  const raw = encodedTx(tx)
  return tx.supports(Capability.EIP2718TypedTransaction) ? item(raw.length) : raw.length
}

/**
 * `block.serialize().length` (the JSON-RPC `size` of a block) without encoding the block: summed
 * from the header's encoding and each transaction's cached encoding (`encodedTx`: typed ones are
 * byte strings in the body, legacy ones lists), remembered per block object. A full block's
 * `serialize()` re-encodes every transaction, once per `eth_getBlockByNumber`.
 */
export function blockSize(block: Block): number {
  let size = sizes.get(block)
  if (size !== undefined) return size
  let txs = 0
  for (const tx of block.transactions) txs += bodyTxLength(tx)
  let payload = block.header.serialize().length + item(txs)
  payload += RLP.encode(block.uncleHeaders.map((u) => u.raw())).length
  if (block.withdrawals) payload += RLP.encode(block.withdrawals.map((w) => w.raw())).length
  size = item(payload)
  sizes.set(block, size)
  return size
}
