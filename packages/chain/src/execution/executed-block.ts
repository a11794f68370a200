import type { Block, BlockHeader } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Withdrawal } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { EndBlockResult } from '../engine.ts'
import type { StateLayer } from '../state/state-db.ts'
import { txSender } from '../state/tx-cache.ts'
import type { StoredReceipt } from '../store/receipt.ts'

/**
 * A block with the results of executing it: a value that owns its state writes, which the import
 * pipeline commits (in the block's one batch) or which is simply dropped. Many can exist at once —
 * a proposal under vote, a competing fork, the next proposal built on an uncommitted one — and
 * dropping one drops only its writes.
 */
export interface ExecutedBlock {
  block: Block
  receipts: StoredReceipt[]
  /** The post-state root (the block header's). */
  stateRoot: Uint8Array
  /** The trie nodes this execution wrote; read through by executions built on this block. */
  writes: StateLayer
  /**
   * Headers of the uncommitted blocks this one was built on (parent first): what BLOCKHASH sees
   * of them while they are not in the store. Empty when the parent was committed.
   */
  pendingAncestors: readonly BlockHeader[]
  /** What the engine's `endBlock` returned (validator-set updates, evidence), if anything. */
  endBlock?: EndBlockResult
}

/** What a block executes or is built on: a stored block, or an executed one not committed yet. */
export type ParentBlock = Block | ExecutedBlock

export function isExecuted(parent: ParentBlock): parent is ExecutedBlock {
  return (parent as ExecutedBlock).writes !== undefined
}

/**
 * Where a block builder draws transactions from, in the order it should include them (the pool's
 * price-and-nonce order). `shift` moves past the current transaction to the sender's next;
 * `pop` drops the rest of the current sender's transactions (they cannot run after a failure).
 */
export interface BlockTxSource {
  peek(): TypedTransaction | undefined
  shift(): void
  pop(): void
}

/** Header fields the producer chooses; the rest are computed by execution. */
export interface BuildHeader {
  timestamp: bigint
  coinbase?: Uint8Array
  gasLimit?: bigint
  extraData?: Uint8Array
  mixHash?: Uint8Array
  nonce?: Uint8Array
  difficulty?: bigint
  parentBeaconBlockRoot?: Uint8Array
  /** EIP-4895 withdrawals to credit (from Shanghai on; none by default). */
  withdrawals?: readonly Withdrawal[]
  /** Dev mode: a base fee other than EIP-1559's (anvil_setNextBlockBaseFeePerGas). */
  baseFeePerGas?: bigint
}

/** A change to the state made outside any transaction (dev chains only; not reproducible on import). */
export type StateEdit = (state: StateManagerInterface) => Promise<void>

export interface BuildResult extends ExecutedBlock {
  /** Transactions the builder could not include, and why (to be dropped by the pool). */
  rejected: { tx: TypedTransaction; reason: string }[]
  /** The block's EIP-7685 execution requests (type byte + data each), from Prague on. */
  requests: Uint8Array[]
}

/** The receipts of `txs` from their execution `results`, as the store keeps them. */
export function receiptsOf(txs: readonly TypedTransaction[], results: RunTxResult[]): StoredReceipt[] {
  return results.map((res, i) => {
    const tx = txs[i] as TypedTransaction
    const r = res.receipt as {
      status?: 0 | 1
      stateRoot?: Uint8Array
      cumulativeBlockGasUsed: bigint
      logs: StoredReceipt['logs']
    }
    return {
      type: tx.type,
      // Before Byzantium @ethereumjs gives the post-state root instead of a status.
      status: r.status ?? (res.execResult.exceptionError ? 0 : 1),
      ...(r.stateRoot ? { root: r.stateRoot } : {}),
      cumulativeGasUsed: r.cumulativeBlockGasUsed,
      logs: r.logs,
      from: txSender(tx).bytes,
    }
  })
}
