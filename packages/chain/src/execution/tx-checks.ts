import type { Block } from '@ethereumjs/block'
import { Capability, isBlob4844Tx } from '@ethereumjs/tx'
import type { SenderRecovery } from './recovery.ts'

/** Transactions per recovery request: the first ones come back while later ones are recovered. */
const CHUNK = 64

/**
 * The per-transaction validity checks of a received block — `block.getTransactionsValidationErrors()`
 * and the "unsigned" check of `validateData`, same messages — run one transaction at a time just
 * before it executes, so that recovering the senders' keys (the costly part: one secp256k1
 * recovery each) overlaps with executing the transactions before it: with a {@link SenderRecovery}
 * the block's signatures go to the worker threads in chunks at once, and {@link check} waits only
 * for the chunk of the transaction at hand. Without one, each key is recovered on the main thread
 * as the transaction is checked.
 */
export class TxChecks {
  private readonly chunks: (Promise<void> | undefined)[] = []
  private blobGasUsed = 0n

  constructor(
    private readonly block: Block,
    recovery?: SenderRecovery,
  ) {
    if (!recovery) return
    const txs = block.transactions
    for (let from = 0; from < txs.length; from += CHUNK) {
      // A failed recovery leaves the keys unset: the check then recovers on the main thread.
      this.chunks.push(recovery.prepare(txs.slice(from, from + CHUNK)).catch(() => undefined))
    }
  }

  /** Why transaction `i` makes the block invalid, or undefined when it is valid. */
  async check(i: number): Promise<string | undefined> {
    await this.chunks[Math.floor(i / CHUNK)]
    const block = this.block
    const tx = block.transactions[i]
    if (!tx) return `invalid transactions: no transaction at index ${i}`
    const common = block.common
    const errs = tx.getValidationErrors()
    if (common.isActivatedEIP(1559)) {
      const baseFee = block.header.baseFeePerGas ?? 0n
      if (tx.supports(Capability.EIP1559FeeMarket)) {
        if ((tx as { maxFeePerGas: bigint }).maxFeePerGas < baseFee)
          errs.push('tx unable to pay base fee (EIP-1559 tx)')
      } else if ((tx as { gasPrice: bigint }).gasPrice < baseFee) {
        errs.push('tx unable to pay base fee (non EIP-1559 tx)')
      }
    }
    if (common.isActivatedEIP(4844) && isBlob4844Tx(tx)) {
      const limit = common.getBlobGasSchedule().maxBlobGasPerBlock
      this.blobGasUsed += BigInt(tx.numBlobs()) * common.param('blobGasPerBlob')
      if (this.blobGasUsed > limit) {
        errs.push(`tx causes total blob gas of ${this.blobGasUsed} to exceed maximum blob gas per block of ${limit}`)
      }
    }
    if (errs.length > 0) return `invalid transactions: errors at tx ${i}: ${errs.join(', ')}`
    if (!tx.isSigned()) return `invalid transactions: transaction at index ${i} is unsigned`
    return undefined
  }

  /** The block-wide check once every transaction passed: the header's blob gas used. */
  finish(): string | undefined {
    const block = this.block
    if (block.common.isActivatedEIP(4844) && this.blobGasUsed !== block.header.blobGasUsed) {
      return `invalid transactions: invalid blobGasUsed expected=${block.header.blobGasUsed} actual=${this.blobGasUsed}`
    }
    return undefined
  }
}
