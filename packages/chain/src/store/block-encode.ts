import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { Capability } from '@ethereumjs/tx'
import { encodedTx } from '../state/tx-cache.ts'

/**
 * `block.serialize()` with each typed transaction's cached encoding (`encodedTx`: the bytes it was
 * decoded from or first serialized to) instead of a fresh `serialize()` per transaction, which
 * converts every field of it again (a proposer's block of 1,428 transfers re-encoded each one to
 * publish it). Same bytes: legacy transactions are RLP lists in a body and go as `raw()`, as in
 * @ethereumjs's `Block.raw()`.
 */
export function encodeBlock(block: Block): Uint8Array {
  const values: unknown[] = [
    block.header.raw(),
    block.transactions.map((tx) => (tx.supports(Capability.EIP2718TypedTransaction) ? encodedTx(tx) : tx.raw())),
    block.uncleHeaders.map((u) => u.raw()),
  ]
  if (block.withdrawals) values.push(block.withdrawals.map((w) => w.raw()))
  return RLP.encode(values as Uint8Array[])
}
