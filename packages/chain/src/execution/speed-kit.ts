import { bytesToHex, type Logger } from '@cairn/utils'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import { Caches, MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import { BatchedStateManager } from '../fast/batched-state.ts'
import {
  type Builder,
  type BuilderInternals,
  type Finished,
  finish,
  addTx as quickAddTx,
} from '../fast/builder-shortcuts.ts'
import {
  allPrecompilesLow,
  type BlockEnv,
  fastPathAllowed,
  runFastTransfer,
  TransferAccounts,
} from '../fast/fast-transfer.ts'
import { installJumpDestCache, useReferenceAnalysis } from '../fast/jump-cache.ts'
import { NowReads } from '../fast/now-reads.ts'
import { ReadThroughStateManager } from '../fast/read-state.ts'
import { growingViewCaches } from '../fast/view-caches.ts'
import type { TrieReader } from '../fast/view-call/trie-reader.ts'
import { SharedReadView } from '../state/shared-read-view.ts'
import type { StateDB } from '../state/state-db.ts'
import { newStateManager } from '../state/state-manager.ts'
import { txSender } from '../state/tx-cache.ts'
import type { TimeSlice } from '../time-slice.ts'

/**
 * The speed machinery the executor and its read views run with, chosen once per chain by
 * {@link speedKit}: the shims of `../fast/` (the batched state manager and its trie, the builder's
 * shortcuts, the transfer path, the jump-destination cache, shared read views, reads without
 * waiting), or none of them — `@ethereumjs` as published (reference mode). Nothing else in the
 * executor asks which mode it runs in.
 */
export interface SpeedKit {
  /** Reference mode: no speed shim. */
  readonly reference: boolean
  /** The executor's one state manager, over `opts`. */
  executionState(opts: MerkleStateManagerOpts): MerkleStateManager
  /** Readies each VM the chain makes (reference mode: jump analysis as published). */
  prepareVM(vm: VM): void
  /** Runs `fn` (a block's finish) with `slice` handed to the execution state, if it takes one. */
  sliced<T>(state: StateManagerInterface, slice: TimeSlice, fn: () => Promise<T>): Promise<T>
  /** Runs `tx` in the block being built, through the EVM. */
  addTx(builder: Builder, tx: TypedTransaction, common: Common): Promise<RunTxResult>
  /** `builder.build()`; `knownTxRoot`: the transactions root already checked. */
  finish(builder: Builder, common: Common, knownTxRoot?: Uint8Array, slice?: TimeSlice): Promise<Finished>
  /** The block's plain transfers without the EVM: undefined when there is no such path (or the rules exclude it). */
  transfers(vm: VM, builder: Builder, common: Common): BlockEnv | undefined
  /** A read-only view at `root` (callers must not write to it). */
  viewAt(common: Common, stateDB: StateDB, root: Uint8Array): SharedReadView
  /** The state manager of a throw-away VM at `root` (eth_call and kin); `view`: the shared view there. */
  callState(common: Common, stateDB: StateDB, root: Uint8Array, view: () => SharedReadView): MerkleStateManager
  /** Reads without waiting over `reader`, or undefined (callers read through a state manager). */
  nowReads(reader: () => TrieReader): NowReads | undefined
}

/**
 * The kit of a chain: every shim off with `reference`. Installs the jump-destination cache (once
 * per process) for a chain that runs the shims.
 */
export async function speedKit(reference: boolean, modules: { logger: Logger }): Promise<SpeedKit> {
  if (reference) return REFERENCE_KIT
  if (!(await installJumpDestCache()))
    modules.logger.debug('EVM jump-destination cache not installed (other @ethereumjs/evm)')
  return fastKit()
}

/** `@ethereumjs` as published (its patches under patches/ aside). */
const REFERENCE_KIT: SpeedKit = {
  reference: true,
  executionState: (opts) => new MerkleStateManager(opts),
  prepareVM: (vm) => useReferenceAnalysis(vm.evm),
  sliced: (_state, _slice, fn) => fn(),
  addTx: (builder, tx) => builder.addTransaction(tx, { allowNoBlobs: true }),
  async finish(builder) {
    const { block, requests } = await builder.build()
    return { block, requests: (requests ?? []).map((r) => r.bytes) }
  },
  transfers: () => undefined,
  // No sharing: a fresh view, with fresh caches, per read.
  viewAt: (common, stateDB, root) =>
    newStateManager(common, stateDB.readView(), root, new Caches(), (o) => new SharedReadView(o)),
  callState: (common, stateDB, root) => newStateManager(common, stateDB.readView(), root),
  nowReads: () => undefined,
}

/** The shims of `../fast/`; its read views are shared by the few most recent roots. */
function fastKit(): SpeedKit {
  const views = new Map<string, SharedReadView>()
  return {
    reference: false,
    executionState: (opts) => new BatchedStateManager(opts),
    prepareVM: () => {},
    async sliced(state, slice, fn) {
      if (!(state instanceof BatchedStateManager)) return fn()
      state.slice = slice
      try {
        return await fn()
      } finally {
        state.slice = undefined
      }
    },
    addTx: (builder, tx, common) => quickAddTx(builder, tx, common),
    finish: (builder, common, knownTxRoot, slice) => finish(builder, common, knownTxRoot, slice),
    transfers(vm, builder, common) {
      if (!fastPathAllowed(common)) return undefined
      const h = (builder as unknown as BuilderInternals).headerData
      const precompiles = (vm.evm as unknown as { precompiles: Map<string, unknown> }).precompiles
      return {
        accounts: new TransferAccounts(vm.stateManager),
        gasLimit: BigInt(h.gasLimit as bigint),
        baseFee: BigInt((h.baseFeePerGas as bigint | undefined) ?? 0n),
        coinbase: new Address(h.coinbase ? (h.coinbase as Uint8Array) : new Uint8Array(20)),
        precompiles,
        precompilesLow: allPrecompilesLow(precompiles),
        maxTxGas: common.isActivatedEIP(7825) ? common.param('maxTransactionGasLimit') : undefined,
      }
    },
    viewAt(common, stateDB, root) {
      const key = bytesToHex(root)
      const shared = views.get(key)
      if (shared) return shared
      const caches = growingViewCaches({ accounts: 20_000, slots: 20_000, codes: 1_000 })
      const view = newStateManager(common, stateDB.readView(), root, caches, (o) => new SharedReadView(o))
      views.set(key, view)
      if (views.size > 4) views.delete(views.keys().next().value as string)
      return view
    },
    callState: (common, stateDB, root, view) =>
      newStateManager(common, stateDB.readView(), root, new Caches(), (o) => new ReadThroughStateManager(o, view())),
    nowReads: (reader) => new NowReads(reader),
  }
}

/**
 * Runs `tx` as a plain transfer in the block `builder` builds, when it is one (see
 * `../fast/fast-transfer.ts`); undefined: not one, run it through the EVM (after flushing `env`'s
 * accounts).
 */
export async function tryTransfer(
  vm: VM,
  builder: Builder,
  tx: TypedTransaction,
  env: BlockEnv,
): Promise<RunTxResult | undefined> {
  const b = builder as unknown as BuilderInternals
  if (!b.checkpointed) {
    await vm.evm.journal.checkpoint()
    b.checkpointed = true
  }
  const result = await runFastTransfer(env, tx, txSender(tx), builder.gasUsed)
  if (!result) return undefined
  b.transactions.push(tx)
  b.transactionResults.push(result)
  builder.gasUsed += result.blockGasSpent
  b._minerValue += result.minerValue
  return result
}
