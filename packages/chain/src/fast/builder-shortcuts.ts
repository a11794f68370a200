import type { HeaderData } from '@ethereumjs/block'
import { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { buildBlock, RunTxResult } from '@ethereumjs/vm'
import { Bloom } from '@ethereumjs/vm'
import { orderedTrieRoot } from '../state/ordered-trie.ts'
import { encodedTx } from '../state/tx-cache.ts'
import { trieReceipts } from '../store/receipt.ts'
import type { TimeSlice } from '../time-slice.ts'

// The block builder's shortcuts (what @ethereumjs's BlockBuilder does, without its O(n²)
// re-creation of transactions and its one-by-one tries): the interface they accelerate is the
// executor's `build` and `execute`, through its speed kit (`../execution/speed-kit.ts`); the
// reference kit takes the builder as published.

export type Builder = Awaited<ReturnType<typeof buildBlock>>

/** The BlockBuilder fields (public at runtime, private in its types) the executor works with. */
export interface BuilderInternals {
  headerData: HeaderData
  checkpointed: boolean
  transactions: TypedTransaction[]
  transactionResults: RunTxResult[]
  _minerValue: bigint
  transactionsTrie(): Promise<Uint8Array>
  receiptTrie(): Promise<Uint8Array>
  logsBloom(): Uint8Array
}

/** A finished block and its EIP-7685 requests (type byte + data each; none before Prague). */
export interface Finished {
  block: Block
  requests: Uint8Array[]
}

/**
 * `builder.build()` with the block's transactions kept: BlockBuilder.build creates the block
 * with `createBlock`, which re-creates every transaction from its fields (losing the cached
 * encoding, hash and sender) and computes the transactions and receipts tries by inserting into an
 * @ethereumjs/mpt trie one by one. Here both roots come from {@link orderedTrieRoot} over the
 * cached encodings, the builder finalizes an empty list (system calls, requests and the state
 * root are its own), and the block is assembled from its header and the original transactions.
 * With `slice`, timers and I/O get a turn before each root when it is used up.
 */
export async function finish(
  builder: Builder,
  common: Common,
  knownTxRoot?: Uint8Array,
  slice?: TimeSlice,
): Promise<Finished> {
  if (common.isActivatedEIP(7928)) {
    const { block, requests } = await builder.build()
    return { block, requests: (requests ?? []).map((r) => r.bytes) }
  }
  const b = builder as unknown as BuilderInternals
  const txs = b.transactions
  const results = b.transactionResults
  b.transactionsTrie = async () => {
    await slice?.check()
    return knownTxRoot ?? orderedTrieRoot(txs.map(encodedTx))
  }
  // A transaction's bloom is that of its logs: only those with logs change the block's.
  b.logsBloom = () => {
    const bloom = new Bloom()
    for (const r of results) if (r.receipt.logs.length > 0) bloom.or(r.bloom)
    return bloom.bitvector
  }
  b.receiptTrie = async () => {
    await slice?.check()
    const root = orderedTrieRoot(
      trieReceipts(results.map((r, i) => ({ receipt: r.receipt, type: (txs[i] as TypedTransaction).type }))),
    )
    await slice?.check() // the state root comes next
    return root
  }
  b.transactions = []
  try {
    const { block, requests } = await builder.build()
    return {
      block: new Block(block.header, txs, [], block.withdrawals, { common: block.common }),
      requests: (requests ?? []).map((r) => r.bytes),
    }
  } finally {
    b.transactions = txs
  }
}

/**
 * `BlockBuilder.addTransaction` re-creates every transaction added so far before running the new
 * one (it builds a whole Block only to hand `runTx` its header): O(n²) transaction constructions
 * per block, measured as most of the sealing time. `runTx` reads only the block's header (EIP-7928's
 * access-list index aside, which no Cairn hardfork activates), so while a transaction runs the
 * builder sees an empty list; the list is put back, with what the call appended, right after.
 */
export async function addTx(builder: Builder, tx: TypedTransaction, common: Common): Promise<RunTxResult> {
  // Inside a block a blob transaction carries no blobs (only the network wrapper does): a received
  // block's are checked by their versioned hashes and blob gas (TxChecks, validateBlock) instead,
  // and a built block's come from the pool, which verified their sidecars and keeps the blobs.
  const opts = { allowNoBlobs: true }
  if (common.isActivatedEIP(7928)) return builder.addTransaction(tx, opts)
  const b = builder as unknown as { transactions: TypedTransaction[] }
  const all = b.transactions
  b.transactions = []
  try {
    return await builder.addTransaction(tx, opts)
  } finally {
    const added = b.transactions
    b.transactions = all
    for (const t of added) all.push(t)
  }
}
