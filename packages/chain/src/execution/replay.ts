import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { buildBlock, type RunTxResult, type VM } from '@ethereumjs/vm'
import type { BlockReader } from '../chain-reader.ts'
import { ChainErrorCode } from '../errors.ts'
import type { StateReader } from '../state-reader.ts'
import { txSender } from '../store/tx-cache.ts'
import { allowCodeSender, isImpersonatedTx } from './code-sender.ts'

/** A block replayed up to one of its transactions, on a private VM (nothing is written). */
export interface ReplayedTx {
  /** The private VM: attach EVM listeners (`vm.evm.events`) before calling {@link run}. */
  vm: VM
  /** Runs the transaction, with the block as context, on the state its predecessors left. */
  run(): Promise<RunTxResult>
}

/** A block replayed transaction by transaction on a private VM (nothing is written). */
export interface ReplayedBlock {
  /** The private VM: attach EVM listeners (`vm.evm.events`) before running transactions. */
  vm: VM
  /** Runs the block's next transaction on the state its predecessors left. */
  next(): Promise<RunTxResult>
}

/**
 * Prepares transaction `index` of a stored `block` for re-execution (debug_traceTransaction): the
 * parent's state in a private VM, the block's system calls, and transactions 0..index-1 run through
 * the same BlockBuilder path as import, so the traced transaction sees exactly the state it saw
 * when the block was made.
 */
export async function replayTransaction(
  chain: BlockReader & StateReader,
  block: Block,
  index: number,
): Promise<ReplayedTx> {
  if (!block.transactions[index]) {
    throw new CairnError(
      ChainErrorCode.CORRUPT,
      `cannot replay transaction ${index} of block ${block.header.number} ${bytesToHex(block.hash())}: no such transaction`,
      { hint: 'run `cairn db check`' },
    )
  }
  const replay = await replayBlock(chain, block)
  for (let i = 0; i < index; i++) await replay.next()
  return { vm: replay.vm, run: () => replay.next() }
}

/**
 * Prepares a stored `block` for re-execution one transaction at a time (debug_traceBlockBy*): the
 * parent's state in a private VM and the block's system calls, then each {@link ReplayedBlock.next}
 * runs the next transaction through the same BlockBuilder path as import.
 */
export async function replayBlock(chain: BlockReader & StateReader, block: Block): Promise<ReplayedBlock> {
  const parent = await chain.getBlock(block.header.parentHash)
  if (!parent) {
    throw new CairnError(
      ChainErrorCode.CORRUPT,
      `cannot replay block ${block.header.number} ${bytesToHex(block.hash())}: parent block missing`,
      { hint: 'run `cairn db check`' },
    )
  }
  // The block's own fork (its header's Common), not the parent's: a fork's first block runs its rules.
  const h = block.header
  const vm = await chain.vmAt(parent.header, h.common)
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
      // Only where the fork has them (EIP-4788, EIP-4895): @ethereumjs refuses them before.
      ...(h.parentBeaconBlockRoot !== undefined ? { parentBeaconBlockRoot: h.parentBeaconBlockRoot } : {}),
    },
    ...(h.common.isActivatedEIP(4895) ? { withdrawals: [] } : {}),
    blockOpts: { putBlockIntoBlockchain: false, calcDifficultyFromHeader: undefined },
  })
  let i = 0
  return {
    vm,
    next() {
      const tx = block.transactions[i++]
      if (!tx) throw new CairnError(ChainErrorCode.CORRUPT, `block ${block.header.number} has no transaction ${i - 1}`)
      // A stored blob transaction has no blobs (only the network form carries them), as at import.
      if (!isImpersonatedTx(tx)) return builder.addTransaction(tx, { allowNoBlobs: true })
      // As at import: an impersonated sender may have code (no EIP-3607, as Anvil).
      const restore = allowCodeSender(vm, txSender(tx))
      return builder.addTransaction(tx, { allowNoBlobs: true }).finally(restore)
    },
  }
}
