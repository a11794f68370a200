import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { buildBlock, type RunTxResult, type VM } from '@ethereumjs/vm'
import { ChainErrorCode } from './errors.ts'
import type { Executor } from './executor.ts'
import type { ChainStore } from './store.ts'

/** A block replayed up to one of its transactions, on a private VM (nothing is written). */
export interface ReplayedTx {
  /** The private VM: attach EVM listeners (`vm.evm.events`) before calling {@link run}. */
  vm: VM
  /** Runs the transaction, with the block as context, on the state its predecessors left. */
  run(): Promise<RunTxResult>
}

/**
 * Prepares transaction `index` of a stored `block` for re-execution (debug_traceTransaction): the
 * parent's state in a private VM, the block's system calls, and transactions 0..index-1 run through
 * the same BlockBuilder path as import, so the traced transaction sees exactly the state it saw
 * when the block was made.
 */
export async function replayTransaction(
  chain: { executor: Executor; store: ChainStore },
  block: Block,
  index: number,
): Promise<ReplayedTx> {
  const tx = block.transactions[index]
  const parent = await chain.store.getBlock(block.header.parentHash)
  if (!tx || !parent) {
    throw new CairnError(
      ChainErrorCode.CORRUPT,
      `cannot replay transaction ${index} of block ${block.header.number} ${bytesToHex(block.hash())}: ${tx ? 'parent block missing' : 'no such transaction'}`,
      { hint: 'run `cairn db check`' },
    )
  }
  const vm = await chain.executor.vmAt(parent.header, chain.store)
  const h = block.header
  const builder = await buildBlock(vm, {
    parentBlock: parent,
    headerData: {
      timestamp: h.timestamp,
      gasLimit: h.gasLimit,
      coinbase: h.coinbase.bytes,
      extraData: h.extraData,
      mixHash: h.mixHash,
      nonce: h.nonce,
      difficulty: h.difficulty,
      ...(h.baseFeePerGas !== undefined ? { baseFeePerGas: h.baseFeePerGas } : {}),
      parentBeaconBlockRoot: h.parentBeaconBlockRoot ?? new Uint8Array(32),
    },
    withdrawals: [],
    blockOpts: { putBlockIntoBlockchain: false, calcDifficultyFromHeader: undefined },
  })
  for (const earlier of block.transactions.slice(0, index)) await builder.addTransaction(earlier)
  return { vm, run: () => builder.addTransaction(tx) }
}
