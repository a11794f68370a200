// The senders of eth_sendTransaction in automine mode, waiting for their transaction's block (as
// Anvil's and Hardhat's automine answer once it is sealed, so a read right after sees it).
import type { BuildResult } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { NextBlock } from './next-block.ts'

export interface MinedWaitersModules {
  /** The engine's pool and head (throwing when it is not attached). */
  pool(): TxPool
  head(): BlockHeader
  /** The next block's fields (a set base fee or gas limit). */
  next: NextBlock
  /** Whether the engine runs and seals on arrival (automine). */
  sealsOnArrival(): boolean
}

/** The waiting senders, by transaction hash (see the file's header). */
export class MinedWaiters {
  #waiters = new Map<string, { resolve: () => void; reject: (err: Error) => void }>()

  constructor(private readonly modules: MinedWaitersModules) {}

  /**
   * Resolves once the pooled transaction `hash` is in a sealed block that is the head, in automine
   * mode; rejects with the reason when the block builder dropped it (it failed at execution) or it
   * left the pool unsealed. Resolves at once without automine, when it waits for an earlier nonce
   * (queued), when its fee cap is below the next base fee (it waits in the pool, as on Anvil), or
   * when it is not pooled.
   */
  awaitMined(hash: Uint8Array): Promise<void> {
    const pool = this.modules.pool()
    const tx = pool.get(hash)
    if (!this.modules.sealsOnArrival() || !tx) return Promise.resolve()
    const pending = pool.contentFrom(tx.getSenderAddress()).pending
    if (!pending.includes(tx) || !this.affordable(tx)) return Promise.resolve()
    const key = bytesToHex(hash)
    const tooBig = this.tooBig(tx)
    if (tooBig) {
      // It would wait in the pool for a block big enough, which automine never makes: refuse it.
      pool.discard([tx])
      return Promise.reject(tooBig)
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiters.set(key, { resolve, reject })
    })
  }

  /** The refusal of a transaction whose gas limit exceeds the next block's (evm_setBlockGasLimit lowered it). */
  private tooBig(tx: { gasLimit: bigint }): CairnError | undefined {
    const limit = this.modules.next.gasLimit ?? this.modules.head().gasLimit
    if (tx.gasLimit <= limit) return undefined
    return new CairnError(
      'CONSENSUS_TX_DROPPED',
      `exceeds block gas limit: gas ${tx.gasLimit} > block gas limit ${limit}`,
      {
        fault: 'caller',
        hint: 'lower the gas limit, or raise the block gas limit (evm_setBlockGasLimit)',
      },
    )
  }

  /** Whether a transaction's fee cap covers the next block's base fee (else automine leaves it pooled). */
  private affordable(tx: { maxFeePerGas?: bigint; gasPrice?: bigint } | object): boolean {
    const t = tx as { maxFeePerGas?: bigint; gasPrice?: bigint }
    const cap = t.maxFeePerGas ?? t.gasPrice ?? 0n
    return cap >= (this.modules.next.baseFee ?? this.modules.head().calcNextBaseFee())
  }

  /**
   * After a seal (`built`): wakes the waiters whose transaction it holds, fails those it rejected
   * and those no longer pooled (replaced, evicted, dropped). Without `built` (automine off,
   * stopping): wakes every waiter.
   */
  settle(built?: BuildResult): void {
    const waiters = this.#waiters
    if (waiters.size === 0) return
    if (!built || !this.modules.sealsOnArrival()) {
      for (const w of waiters.values()) w.resolve()
      waiters.clear()
      return
    }
    for (const tx of built.block.transactions) {
      const key = bytesToHex(tx.hash())
      waiters.get(key)?.resolve()
      waiters.delete(key)
    }
    for (const { tx, reason } of built.rejected) {
      const key = bytesToHex(tx.hash())
      waiters.get(key)?.reject(
        new CairnError('CONSENSUS_TX_DROPPED', `transaction ${key} failed at execution and was dropped: ${reason}`, {
          fault: 'caller',
        }),
      )
      waiters.delete(key)
    }
    const pool = this.modules.pool()
    for (const [key, w] of waiters) {
      const pooled = pool.get(hexToBytes(key as `0x${string}`))
      if (pooled && !this.affordable(pooled)) {
        // The base fee rose past its fee cap: it waits in the pool, its sender no longer does.
        w.resolve()
        waiters.delete(key)
        continue
      }
      const tooBig = pooled && this.tooBig(pooled)
      if (pooled && tooBig) {
        pool.discard([pooled])
        w.reject(tooBig)
        waiters.delete(key)
        continue
      }
      if (pooled) continue
      w.reject(
        new CairnError('CONSENSUS_TX_DROPPED', `transaction ${key} left the pool before it was sealed`, {
          fault: 'caller',
          hint: 'it was replaced, evicted or dropped (anvil_dropTransaction, a revert)',
        }),
      )
      waiters.delete(key)
    }
  }
}
