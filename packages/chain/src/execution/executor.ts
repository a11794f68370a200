// Block building and execution share one VM and state manager, its warm caches and its lock. The
// read views over the same state database are `./state-views.ts`; the speed machinery both run
// with is the chain's speed kit (`./speed-kit.ts`), chosen once.
import type { KVStore } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, errorMessage, type Hex, type Logger } from '@cairn/utils'
import type { Block, BlockHeader, HeaderData } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { Caches } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { MAX_UINT64, type Withdrawal } from '@ethereumjs/util'
import { buildBlock, createVM, type RunTxResult, type VM } from '@ethereumjs/vm'
import { Mutex } from 'async-mutex'
import type { ChainEngine, EndBlockResult } from '../engine.ts'
import { ChainErrorCode } from '../errors.ts'
import type { Builder, BuilderInternals, Finished } from '../fast/builder-shortcuts.ts'
import type { BlockEnv } from '../fast/fast-transfer.ts'
import { BlockSizeBudget } from '../rules/block-size-limit.ts'
import type { ChainCommons } from '../rules/common.ts'
import { StatePreimages } from '../state/preimages.ts'
import { LayerSwitch, type StateDB, type StateLayer } from '../state/state-db.ts'
import { newStateManager } from '../state/state-manager.ts'
import { txSender } from '../state/tx-cache.ts'
import type { ChainStore } from '../store/store.ts'
import { TimeSlice } from '../time-slice.ts'
import { ChainView } from './chain-view.ts'
import { allowCodeSender, isImpersonatedTx } from './code-sender.ts'
import {
  type BlockTxSource,
  type BuildHeader,
  type BuildResult,
  type ExecutedBlock,
  isExecuted,
  type ParentBlock,
  receiptsOf,
  type StateEdit,
} from './executed-block.ts'
import { creditUncleRewards, isProofOfWork } from './pow-era.ts'
import { type SpeedKit, speedKit, tryTransfer } from './speed-kit.ts'
import { StateViews } from './state-views.ts'
import { checkedRequestCalls } from './system-calls.ts'
import type { TxChecks } from './tx-checks.ts'

export type {
  BlockTxSource,
  BuildHeader,
  BuildResult,
  ExecutedBlock,
  ParentBlock,
  StateEdit,
} from './executed-block.ts'

const MIN_TX_GAS = 21_000n

/**
 * Runs blocks through `@ethereumjs/vm` over the persistent state trie. Producing and importing use
 * one path — a BlockBuilder — so a block made here and the same block received from a peer execute
 * identically. Each execution returns an {@link ExecutedBlock} that owns its state writes (a
 * {@link StateLayer}); nothing reaches the store until the import pipeline commits it. Executions
 * run one at a time (one VM and state manager), queued on the executor's own lock, never the
 * importer's.
 */
export class Executor {
  /** The Common and VM of the block being built or executed (one VM per fork, sharing the state). */
  private common: Common
  private vm: VM
  private readonly vms = new Map<Common, VM>()

  private constructor(
    private readonly commons: ChainCommons,
    vm: VM,
    private readonly view: ChainView,
    private readonly stateDB: StateDB,
    private readonly layers: LayerSwitch,
    private readonly engine: Pick<ChainEngine, 'beginBlock' | 'endBlock' | 'sealsProofOfWork'>,
    private readonly logger: Logger,
    private readonly caches: Caches,
    private readonly toleratedMissing: ReadonlySet<Hex>,
    private readonly kit: SpeedKit,
    rootAfter: ((header: BlockHeader) => Uint8Array) | undefined,
  ) {
    this.vm = vm
    this.common = vm.common
    this.vms.set(vm.common, vm)
    this.views = new StateViews({ kit, stateDB, common: () => this.common, rootAfter })
  }

  /** The read side: views of the state after a block or at a root, calls' VMs (`StateReader`). */
  readonly views: StateViews

  /**
   * The state root the state manager's caches hold: the post-state of the last execution that
   * ran to the end. An execution on a parent with this state root (whichever block it is, and
   * whether or not it was committed: the state is content-addressed) keeps the caches (accounts,
   * storage, code) instead of re-reading them from the trie; any other starts cold. Cleared when
   * an execution fails.
   */
  private warmRoot: Uint8Array | undefined

  /** One execution at a time on the one state manager. */
  private readonly running = new Mutex()

  /**
   * Past this many cached accounts the caches are dropped at the next block (bounds memory: a cached
   * account costs ~3 KB of heap, measured by packages/node/bench/memory.ts; 200,000 held ~600 MB).
   */
  private static readonly MAX_CACHED_ACCOUNTS = 50_000

  /**
   * Plain value transfers skip the EVM when the speed kit has that path (`../fast/fast-transfer.ts`,
   * same results: see the differential test). Off only to compare both paths.
   */
  fastTransfers = true

  /** Reference mode: no speed shim (see {@link Executor.create}'s `reference`). */
  get reference(): boolean {
    return this.kit.reference
  }

  /** Transactions that took the fast path so far (for tests and metrics). */
  fastCount = 0
  /** Addresses and slots written since {@link recordPreimages} (dev chains; undefined otherwise). */
  preimages: StatePreimages | undefined

  /**
   * Records the addresses and slots every later block writes (dev chains: anvil_dumpState) in
   * `kv`, beside those stored by earlier runs (the importer writes new ones with each block).
   */
  recordPreimages(kv: KVStore): StatePreimages {
    if (!this.preimages) {
      const preimages = new StatePreimages(kv)
      preimages.install(this.vm.stateManager)
      this.preimages = preimages
    }
    return this.preimages
  }

  static async create(
    opts: {
      commons: ChainCommons
      /**
       * EIP-7002/7251 contracts whose absence does not make a block invalid (`toleratedMissingContracts`:
       * a chain whose genesis runs Prague without them). None by default.
       */
      toleratedMissingContracts?: ReadonlySet<Hex>
      /**
       * Reference mode: every speed shim off — the EVM's own state manager, jump analysis, block
       * builder and tries; no transfer fast path; no synchronous trie reads (see `ChainOptions`).
       */
      reference?: boolean
    },
    modules: {
      store: ChainStore
      stateDB: StateDB
      genesis: BlockHeader
      engine: Pick<ChainEngine, 'beginBlock' | 'endBlock' | 'sealsProofOfWork'>
      logger: Logger
      /**
       * The state root after a block when something other than the block changed it (a dev chain's
       * edited states, which `DevChain` plugs in here: see {@link postStateRoot}); absent: the header's.
       */
      rootAfter?: (header: BlockHeader) => Uint8Array
      /** Extends each VM it makes (`ChainModules.extendVM`). */
      extendVM?: (vm: VM) => void
    },
  ): Promise<Executor> {
    const base = await speedKit(opts.reference === true, modules)
    const { extendVM } = modules
    const kit: SpeedKit = extendVM
      ? {
          ...base,
          prepareVM: (vm) => {
            base.prepareVM(vm)
            extendVM(vm)
          },
        }
      : base
    const caches = new Caches()
    const common = opts.commons.at(modules.genesis)
    const layers = new LayerSwitch(modules.stateDB)
    const stateManager = newStateManager(common, layers, modules.genesis.stateRoot, caches, (o) =>
      kit.executionState(o),
    )
    const view = new ChainView(modules.store, modules.genesis)
    const vm = await createVM({ common, stateManager, blockchain: view })
    kit.prepareVM(vm)
    return new Executor(
      opts.commons,
      vm,
      view,
      modules.stateDB,
      layers,
      modules.engine,
      modules.logger,
      caches,
      opts.toleratedMissingContracts ?? new Set(),
      kit,
      modules.rootAfter,
    )
  }

  /**
   * The state root after the block `header`: its own, or, on a dev chain, the one state edits
   * made while it was the head (`EditedStates`). What reads at the block see, what a block built on
   * it starts from, and what replaying its child starts from.
   */
  postStateRoot(header: BlockHeader): Uint8Array {
    return this.views.postStateRoot(header)
  }

  /**
   * Runs a dev state edit on the state after `header` (see {@link postStateRoot}) in a private
   * state manager; returns the new state root and the trie nodes it wrote (not committed: see
   * `editHeadState`). The addresses and slots it writes are recorded as preimages (dev chains).
   */
  async applyEdit(header: BlockHeader, edit: StateEdit): Promise<{ root: Uint8Array; writes: StateLayer }> {
    const writes = this.stateDB.layer()
    const sm = newStateManager(header.common, writes, this.postStateRoot(header))
    this.preimages?.install(sm)
    await edit(sm)
    return { root: await sm.getStateRoot(), writes }
  }

  /**
   * Builds a new block on `parent` (stored, or executed and not committed) from `txs`, executing
   * each; the result owns its writes and is not committed.
   */
  build(parent: ParentBlock, header: BuildHeader, txs: BlockTxSource): Promise<BuildResult> {
    return this.exclusive(() => this.buildNow(parent, header, txs))
  }

  private async buildNow(from: ParentBlock, header: BuildHeader, txs: BlockTxSource): Promise<BuildResult> {
    const { parent, writes, pendingAncestors } = this.enter(from)
    if (parent.header.number >= MAX_UINT64 || header.timestamp > MAX_UINT64) {
      // The engine's bug (the dev engine bounds its timestamps): a header holds uint64s.
      throw new CairnError(
        ChainErrorCode.BLOCK_INVALID,
        `cannot build block ${parent.header.number + 1n} at timestamp ${header.timestamp}: a header's number and timestamp are at most 2^64-1`,
        { fault: 'internal' },
      )
    }
    // A dev chain's block on a stored parent starts from the parent's edited state (EditedStates),
    // if any; on an executed one (anvil_reorg's branch, a proposal) from what that execution left.
    const builder = await this.startBuilder(
      parent,
      isExecuted(from) ? from.stateRoot : this.postStateRoot(parent.header),
      header,
      writes,
      pendingAncestors,
      header.baseFeePerGas,
      header.withdrawals,
    )
    const building = {
      number: parent.header.number + 1n,
      timestamp: header.timestamp,
      coinbase: header.coinbase ?? new Uint8Array(20),
      extraData: header.extraData ?? new Uint8Array(),
      gasLimit: header.gasLimit ?? parent.header.gasLimit,
      ...baseFeeOf(builder),
    }
    await this.engine.beginBlock?.({
      header: building,
      parent: parent.header,
      state: this.vm.stateManager,
      vm: this.vm,
    })
    const results: RunTxResult[] = []
    const included: TypedTransaction[] = []
    const rejected: BuildResult['rejected'] = []
    const gasLimit = header.gasLimit ?? parent.header.gasLimit
    const env = this.transfers(builder)
    // The build lets I/O in every few milliseconds, from its first transaction to its state root:
    // requests that arrive meanwhile (transactions being sent, reads) are parsed and answered
    // between slices instead of after the whole block. Nothing they do reaches the build: its
    // transactions are fixed when it starts (the pool's source is a snapshot), the executor is
    // held (`exclusive`), reads use views of committed roots; and a state read that misses the
    // caches lets I/O in already. Measured in docs/performance-history.md (sixth and seventh sessions).
    const slice = new TimeSlice()
    // EIP-7934 (Osaka on): the block's running size, kept within the RLP limit like the gas.
    const size = BlockSizeBudget.start(
      this.common,
      (builder as unknown as BuilderInternals).headerData,
      header.withdrawals,
    )
    for (let tx = txs.peek(); tx !== undefined; tx = txs.peek()) {
      await slice.check()
      const remaining = gasLimit - builder.gasUsed
      if (remaining < MIN_TX_GAS || size?.full) break
      // Over the gas or the bytes left: skipped with its sender's later ones (still pooled).
      if (tx.gasLimit > remaining || (size !== undefined && !size.fits(tx))) {
        txs.pop()
        continue
      }
      try {
        results.push(await this.addTx(builder, tx, env))
        included.push(tx)
        size?.add(tx)
        txs.shift()
      } catch (err) {
        rejected.push({ tx, reason: errorMessage(err) })
        txs.pop()
      }
    }
    await env?.accounts.flush(slice)
    const endBlock = await this.engine.endBlock?.({
      header: building,
      state: this.vm.stateManager,
      vm: this.vm,
      txs: included,
      results,
    })
    const { result, failure } = await this.kit.sliced(this.vm.stateManager, slice, () =>
      checkedRequestCalls(this.vm, this.toleratedMissing, () =>
        this.kit.finish(builder, this.common, undefined, slice),
      ),
    )
    if (failure !== undefined) {
      throw new CairnError(
        ChainErrorCode.BLOCK_INVALID,
        `cannot build block ${parent.header.number + 1n}: ${failure}`,
        {
          fault: 'internal',
          hint: 'the chain state lacks a working system contract; the genesis must deploy it',
        },
      )
    }
    const { block, requests } = result
    this.warmRoot = block.header.stateRoot
    this.logger.debug({ number: block.header.number, txs: included.length, rejected: rejected.length }, 'block built')
    return {
      block,
      receipts: receiptsOf(included, results),
      stateRoot: block.header.stateRoot,
      writes,
      pendingAncestors,
      rejected,
      requests,
      ...(endBlock ? { endBlock } : {}),
    }
  }

  /**
   * Executes a block received from elsewhere on top of `parent` (stored, or executed and not
   * committed) and checks every field that execution determines (state root, receipts root, bloom,
   * gas used, requests hash). The result owns its writes and is not committed.
   */
  execute(block: Block, parent: ParentBlock, checks: TxChecks): Promise<ExecutedBlock> {
    return this.exclusive(() => this.executeNow(block, parent, checks))
  }

  private async executeNow(block: Block, from: ParentBlock, checks: TxChecks): Promise<ExecutedBlock> {
    const h = block.header
    const { parent, writes, pendingAncestors } = this.enter(from)
    // A received block runs on its parent's own state: another producer made it without our edits.
    const builder = await this.startBuilder(
      parent,
      parent.header.stateRoot,
      {
        timestamp: h.timestamp,
        coinbase: h.coinbase.bytes,
        gasLimit: h.gasLimit,
        extraData: h.extraData,
        mixHash: h.mixHash,
        nonce: h.nonce,
        difficulty: h.difficulty,
        ...(h.parentBeaconBlockRoot ? { parentBeaconBlockRoot: h.parentBeaconBlockRoot } : {}),
      },
      writes,
      pendingAncestors,
      h.baseFeePerGas,
      block.withdrawals,
    )
    const results: RunTxResult[] = []
    // Ethereum's proof-of-work history runs no engine hooks; a Cairn engine that seals proof of
    // work itself (GhostDAG's rewards and accepted transactions) runs them as when building.
    const pow = isProofOfWork(this.common)
    const hooks = !pow || this.engine.sealsProofOfWork === true
    if (hooks)
      await this.engine.beginBlock?.({ header: h, parent: parent.header, state: this.vm.stateManager, vm: this.vm })
    const env = this.transfers(builder)
    for (const [i, tx] of block.transactions.entries()) {
      const why = await checks.check(i)
      if (why !== undefined) {
        await builder.revert()
        throw invalid(block, why)
      }
      try {
        results.push(await this.addTx(builder, tx, env))
      } catch (err) {
        await builder.revert()
        throw invalid(block, `transaction ${i} (${bytesToHex(tx.hash())}) cannot execute: ${errorMessage(err)}`)
      }
    }
    const why = checks.finish()
    if (why !== undefined) {
      await builder.revert()
      throw invalid(block, why)
    }
    await env?.accounts.flush()
    // Proof-of-work blocks: uncle rewards here, the miner's base reward in the builder's build().
    let endBlock: EndBlockResult | undefined
    if (pow) await creditUncleRewards(this.vm, block)
    if (hooks) {
      endBlock = await this.engine.endBlock?.({
        header: h,
        state: this.vm.stateManager,
        vm: this.vm,
        txs: block.transactions,
        results,
      })
    }
    // The transactions root was checked against the header before execution (validateBlock).
    let finished: Awaited<ReturnType<typeof checkedRequestCalls<Finished>>>
    try {
      finished = await checkedRequestCalls(this.vm, this.toleratedMissing, () =>
        this.kit.finish(builder, this.common, h.transactionsTrie),
      )
    } catch (err) {
      // e.g. a deposit log of the wrong layout (EIP-6110)
      throw invalid(block, `cannot finalize: ${errorMessage(err)}`)
    }
    if (finished.failure !== undefined) throw invalid(block, finished.failure)
    const r = finished.result.block.header
    this.warmRoot = r.stateRoot
    const fields: [string, Uint8Array | bigint | undefined, Uint8Array | bigint | undefined][] = [
      ['stateRoot', r.stateRoot, h.stateRoot],
      ['receiptTrie', r.receiptTrie, h.receiptTrie],
      ['logsBloom', r.logsBloom, h.logsBloom],
      ['gasUsed', r.gasUsed, h.gasUsed],
      ['requestsHash', r.requestsHash, h.requestsHash],
      ['withdrawalsRoot', r.withdrawalsRoot, h.withdrawalsRoot],
      ['blobGasUsed', r.blobGasUsed, h.blobGasUsed],
    ]
    for (const [name, got, want] of fields) {
      const same = got instanceof Uint8Array && want instanceof Uint8Array ? equalsBytes(got, want) : got === want
      if (!same) {
        throw new CairnError(
          ChainErrorCode.EXECUTION_MISMATCH,
          `block ${h.number} ${bytesToHex(block.hash())}: ${name} after execution is ${fmt(got)}, header says ${fmt(want)}`,
          { fault: 'caller', meta: { field: name } },
        )
      }
    }
    return {
      block,
      receipts: receiptsOf(block.transactions, results),
      stateRoot: r.stateRoot,
      writes,
      pendingAncestors,
      ...(endBlock ? { endBlock } : {}),
    }
  }

  /** Runs one execution alone; a failed one leaves the caches cold. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.running.runExclusive(async () => {
      try {
        return await fn()
      } catch (err) {
        this.warmRoot = undefined
        throw err
      } finally {
        this.layers.current = this.stateDB
      }
    })
  }

  /** The parent block, a fresh write layer over its state, and the uncommitted ancestors' headers. */
  private enter(from: ParentBlock): { parent: Block; writes: StateLayer; pendingAncestors: BlockHeader[] } {
    if (!isExecuted(from) || from.writes.committed) {
      const parent = isExecuted(from) ? from.block : from
      return { parent, writes: this.stateDB.layer(), pendingAncestors: [] }
    }
    return {
      parent: from.block,
      writes: this.stateDB.layer(from.writes),
      pendingAncestors: [from.block.header, ...from.pendingAncestors],
    }
  }

  /** The block fields the transfer path needs, or undefined when there is none (or the rules exclude it). */
  private transfers(builder: Builder): BlockEnv | undefined {
    return this.fastTransfers ? this.kit.transfers(this.vm, builder, this.common) : undefined
  }

  /** Runs `tx` in the block being built: a plain transfer directly, anything else through the EVM. */
  private async addTx(builder: Builder, tx: TypedTransaction, env: BlockEnv | undefined): Promise<RunTxResult> {
    if (env) {
      const result = await tryTransfer(this.vm, builder, tx, env)
      if (result) {
        this.fastCount++
        return result
      }
      // The EVM reads and writes state itself: the transfers' accounts are written first.
      await env.accounts.flush()
    }
    if (!isImpersonatedTx(tx)) return this.kit.addTx(builder, tx, this.common)
    // Anvil skips EIP-3607 for an impersonated sender (a contract may send, dev chains only).
    const restore = allowCodeSender(this.vm, txSender(tx))
    try {
      return await this.kit.addTx(builder, tx, this.common)
    } finally {
      restore()
    }
  }

  /** The VM of `common`'s fork, over the executor's one state manager (made on first use). */
  private async useFork(common: Common): Promise<void> {
    let vm = this.vms.get(common)
    if (!vm) {
      vm = await createVM({ common, stateManager: this.vm.stateManager, blockchain: this.view })
      this.kit.prepareVM(vm)
      this.vms.set(common, vm)
    }
    this.vm = vm
    this.common = common
  }

  private async startBuilder(
    parent: Block,
    preStateRoot: Uint8Array,
    header: BuildHeader,
    writes: StateLayer,
    pendingAncestors: readonly BlockHeader[],
    baseFeePerGas?: bigint,
    withdrawals: readonly Withdrawal[] = [],
  ) {
    const number = parent.header.number + 1n
    const common = this.commons.at({ number, timestamp: header.timestamp, difficulty: header.difficulty ?? 0n })
    if (common !== this.common) await this.useFork(common)
    this.layers.current = writes
    if (!writes.has(preStateRoot)) {
      throw new CairnError(
        ChainErrorCode.STATE_MISSING,
        `the state of block ${parent.header.number} ${bytesToHex(parent.hash())} is not stored; cannot execute on it`,
        { fault: 'transient', hint: 'run `cairn db check`; the block must be imported again' },
      )
    }
    const warm = this.warmRoot !== undefined && equalsBytes(this.warmRoot, preStateRoot)
    this.warmRoot = undefined
    if (!warm || this.caches.account === undefined || this.caches.account.size() > Executor.MAX_CACHED_ACCOUNTS) {
      await this.vm.stateManager.setStateRoot(preStateRoot)
    } else if (!equalsBytes(await this.vm.stateManager.getStateRoot(), preStateRoot)) {
      await this.vm.stateManager.setStateRoot(preStateRoot)
    }
    this.view.parent = parent.header
    this.view.pending = pendingAncestors
    const headerData: HeaderData = {
      timestamp: header.timestamp,
      gasLimit: header.gasLimit ?? parent.header.gasLimit,
      ...(header.coinbase ? { coinbase: header.coinbase } : {}),
      ...(header.extraData ? { extraData: header.extraData } : {}),
      ...(header.mixHash ? { mixHash: header.mixHash } : {}),
      ...(header.nonce ? { nonce: header.nonce } : {}),
      ...(header.difficulty !== undefined ? { difficulty: header.difficulty } : {}),
      ...(baseFeePerGas !== undefined ? { baseFeePerGas } : {}),
      ...(common.isActivatedEIP(4788)
        ? { parentBeaconBlockRoot: header.parentBeaconBlockRoot ?? new Uint8Array(32) }
        : {}),
    }
    return buildBlock(this.vm, {
      parentBlock: parent,
      headerData,
      // A received block's withdrawals, credited in order when the block is finalized (EIP-4895).
      ...(common.isActivatedEIP(4895)
        ? {
            withdrawals: withdrawals.map((w) => ({
              index: w.index,
              validatorIndex: w.validatorIndex,
              address: w.address,
              amount: w.amount,
            })),
          }
        : {}),
      blockOpts: {
        putBlockIntoBlockchain: false,
        calcDifficultyFromHeader: undefined,
        skipConsensusFormatValidation: true,
      },
    })
  }
}

function invalid(block: Block, why: string): CairnError {
  return new CairnError(
    ChainErrorCode.BLOCK_INVALID,
    `block ${block.header.number} ${bytesToHex(block.hash())}: ${why}`,
    {
      fault: 'caller',
    },
  )
}

function fmt(v: Uint8Array | bigint | undefined): string {
  if (v === undefined) return 'absent'
  return typeof v === 'bigint' ? v.toString() : bytesToHex(v)
}

/** The base fee the builder's header holds (the one given, or EIP-1559's it computed), if any. */
function baseFeeOf(builder: Builder): { baseFeePerGas?: bigint } {
  const fee = (builder as unknown as BuilderInternals).headerData.baseFeePerGas
  return fee === undefined || fee === null ? {} : { baseFeePerGas: BigInt(fee as bigint) }
}
