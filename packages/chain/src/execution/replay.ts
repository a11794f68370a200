import { bytesToHex, CairnError } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { BlockBuilder, type BuildBlockOpts, buildBlock, type RunTxResult, type VM } from '@ethereumjs/vm'
import type { BlockReader } from '../chain-reader.ts'
import { ChainErrorCode } from '../errors.ts'
import { txSender } from '../state/tx-cache.ts'
import type { StateReader } from '../state-reader.ts'
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
 * A stored block replayed on a private VM that can go back to the block's start (nothing is
 * written): the parent's state, the block's system calls (EIP-4788, EIP-2935), then its
 * transactions one at a time through the same BlockBuilder path as import. {@link rewind} undoes
 * the transactions run so far (the system calls stay), so one session serves several traces of
 * one block without a new VM or the system calls again, and traces in order run no transaction twice.
 */
export interface ReplaySession {
  /** The private VM: attach EVM listeners (`vm.evm.events`) before running a transaction. */
  readonly vm: VM
  readonly block: Block
  /** The parent's header (the state the block starts from is the chain's post-state of it). */
  readonly parent: BlockHeader
  /** How many of the block's transactions have run since the start: the index of the next one. */
  readonly position: number
  /** Runs the block's next transaction on the state its predecessors left. */
  next(): Promise<RunTxResult>
  /** Back to the block's start (after its system calls): the transactions run are undone. */
  rewind(): Promise<void>
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
  const replay = await openReplay(chain, block)
  for (let i = 0; i < index; i++) await replay.next()
  return { vm: replay.vm, run: () => replay.next() }
}

/**
 * Prepares a stored `block` for re-execution one transaction at a time (debug_traceBlockBy*): the
 * parent's state in a private VM and the block's system calls, then each {@link ReplayedBlock.next}
 * runs the next transaction through the same BlockBuilder path as import.
 */
export async function replayBlock(chain: BlockReader & StateReader, block: Block): Promise<ReplayedBlock> {
  const replay = await openReplay(chain, block)
  return { vm: replay.vm, next: () => replay.next() }
}

/** A {@link ReplaySession} of a stored `block`, at its start. */
export async function openReplay(chain: BlockReader & StateReader, block: Block): Promise<ReplaySession> {
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
  const opts: BuildBlockOpts = {
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
  }
  // The system calls, in a state checkpoint of their own that stays open: the start to rewind to.
  // Transactions then run through another builder of the same block (its own checkpoint on top,
  // reverted by rewind), which does not repeat them.
  await buildBlock(vm, opts)
  let builder = new BlockBuilder(vm, opts)
  let position = 0
  return {
    vm,
    block,
    parent: parent.header,
    get position() {
      return position
    },
    next() {
      const tx = block.transactions[position++]
      if (!tx) {
        throw new CairnError(ChainErrorCode.CORRUPT, `block ${block.header.number} has no transaction ${position - 1}`)
      }
      // A stored blob transaction has no blobs (only the network form carries them), as at import.
      if (!isImpersonatedTx(tx)) return builder.addTransaction(tx, { allowNoBlobs: true })
      // As at import: an impersonated sender may have code (no EIP-3607, as Anvil).
      const restore = allowCodeSender(vm, txSender(tx))
      return builder.addTransaction(tx, { allowNoBlobs: true }).finally(restore)
    },
    async rewind() {
      if (position === 0) return
      await builder.revert()
      builder = new BlockBuilder(vm, opts)
      position = 0
    },
  }
}
