// Over 600 lines, on purpose: block building and execution share one VM and state manager, its
// warm caches and locks, and the read views over the same state database; the build loop and the
// execute path read each other's state. The speed shims it wires (../fast/: the transfer path, the
// builder's shortcuts, the batched state manager) live outside it, each off with `reference`.
import { keccak256 } from '@cairn/crypto'
import type { KVStore } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, errorMessage, type Hex, hexToBytes, type Logger } from '@cairn/utils'
import type { Block, BlockHeader, HeaderData } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Caches, MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import {
  type Account,
  Address,
  createAccountFromRLP,
  type DB,
  MAX_UINT64,
  ValueEncoding,
  type Withdrawal,
} from '@ethereumjs/util'
import { buildBlock, createVM, type RunTxResult, type VM } from '@ethereumjs/vm'
import { Mutex } from 'async-mutex'
import type { ChainEngine, EndBlockResult } from '../engine.ts'
import { ChainErrorCode } from '../errors.ts'
import { BatchedStateManager } from '../fast/batched-state.ts'
import { addTx, type Builder, type BuilderInternals, type Finished, finish } from '../fast/builder-shortcuts.ts'
import {
  allPrecompilesLow,
  type BlockEnv,
  fastPathAllowed,
  runFastTransfer,
  TransferAccounts,
} from '../fast/fast-transfer.ts'
import { installJumpDestCache, useReferenceAnalysis } from '../fast/jump-cache.ts'
import { ReadThroughStateManager, SharedReadView } from '../fast/read-state.ts'
import { growingViewCaches } from '../fast/view-caches.ts'
import type { ViewState } from '../fast/view-call/interpreter.ts'
import { TrieReader } from '../fast/view-call/trie-reader.ts'
import { ViewStateReader } from '../fast/view-call/view-state.ts'
import { creditUncleRewards, isProofOfWork } from '../import/pow.ts'
import { BlockSizeBudget } from '../rules/block-size-limit.ts'
import { type ChainCommons, ownCopy } from '../rules/common.ts'
import { StatePreimages } from '../state/preimages.ts'
import { LayerSwitch, type StateDB, type StateLayer } from '../state/state-db.ts'
import { newStateManager } from '../state/state-manager.ts'
import { txSender } from '../state/tx-cache.ts'
import type { StoredReceipt } from '../store/receipt.ts'
import type { ChainStore } from '../store/store.ts'
import { TimeSlice } from '../time-slice.ts'
import { ChainView } from './chain-view.ts'
import { allowCodeSender, isImpersonatedTx } from './code-sender.ts'
import { checkedRequestCalls } from './system-calls.ts'
import type { TxChecks } from './tx-checks.ts'

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

function isExecuted(parent: ParentBlock): parent is ExecutedBlock {
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
    private readonly engine: Pick<ChainEngine, 'beginBlock' | 'endBlock'>,
    private readonly logger: Logger,
    private readonly caches: Caches,
    private readonly toleratedMissing: ReadonlySet<Hex>,
    private readonly rootAfter: ((header: BlockHeader) => Uint8Array) | undefined,
  ) {
    this.vm = vm
    this.common = vm.common
    this.vms.set(vm.common, vm)
  }

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
   * Plain value transfers skip the EVM (`../fast/fast-transfer.ts`, same results: see the differential
   * test). Off only to compare both paths.
   */
  fastTransfers = true

  /** Reference mode: no speed shim (see {@link Executor.create}'s `reference`). */
  reference = false

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

  /** Read-only state views shared by callers at the same root (see {@link stateAt}). */
  private readonly readViews = new Map<string, SharedReadView>()
  /** The state root {@link accountNow}'s accounts were read at, and those accounts by address. */
  private nowRoot: Uint8Array | undefined
  private readonly nowAccounts = new Map<Hex, Readonly<Account> | null>()
  /** Trie reads without promises: view calls' storage, {@link accountNow} (see {@link reader}). */
  private trieReader: TrieReader | undefined

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
      engine: Pick<ChainEngine, 'beginBlock' | 'endBlock'>
      logger: Logger
      /**
       * The state root after a block when something other than the block changed it (a dev chain's
       * edited states, which `DevChain` plugs in here: see {@link postStateRoot}); absent: the header's.
       */
      rootAfter?: (header: BlockHeader) => Uint8Array
    },
  ): Promise<Executor> {
    const reference = opts.reference === true
    if (!reference && !(await installJumpDestCache()))
      modules.logger.debug('EVM jump-destination cache not installed (other @ethereumjs/evm)')
    const caches = new Caches()
    const common = opts.commons.at(modules.genesis)
    const layers = new LayerSwitch(modules.stateDB)
    const stateManager = newStateManager(
      common,
      layers,
      modules.genesis.stateRoot,
      caches,
      reference ? (o) => new MerkleStateManager(o) : (o) => new BatchedStateManager(o),
    )
    const view = new ChainView(modules.store, modules.genesis)
    const vm = await createVM({ common, stateManager, blockchain: view })
    if (reference) useReferenceAnalysis(vm.evm)
    const executor = new Executor(
      opts.commons,
      vm,
      view,
      modules.stateDB,
      layers,
      modules.engine,
      modules.logger,
      caches,
      opts.toleratedMissingContracts ?? new Set(),
      modules.rootAfter,
    )
    executor.reference = reference
    executor.fastTransfers = !reference
    return executor
  }

  /**
   * The state root after the block `header`: its own, or, on a dev chain, the one state edits
   * made while it was the head (`EditedStates`). What reads at the block see, what a block built on
   * it starts from, and what replaying its child starts from.
   */
  postStateRoot(header: BlockHeader): Uint8Array {
    return this.rootAfter ? this.rootAfter(header) : header.stateRoot
  }

  /** The shared read-only view of the state after `header` ({@link stateAt} of {@link postStateRoot}). */
  stateAfter(header: BlockHeader): MerkleStateManager {
    return this.stateAt(this.postStateRoot(header))
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
    const env = this.blockEnv(builder)
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
    const state = this.vm.stateManager
    if (state instanceof BatchedStateManager) state.slice = slice
    const { result, failure } = await checkedRequestCalls(this.vm, this.toleratedMissing, () =>
      finish(builder, this.common, this.reference, undefined, slice),
    ).finally(() => {
      if (state instanceof BatchedStateManager) state.slice = undefined
    })
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
      receipts: toReceipts(included, results),
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
    const pow = isProofOfWork(this.common)
    if (!pow)
      await this.engine.beginBlock?.({ header: h, parent: parent.header, state: this.vm.stateManager, vm: this.vm })
    const env = this.blockEnv(builder)
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
    else {
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
        finish(builder, this.common, this.reference, h.transactionsTrie),
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
      receipts: toReceipts(block.transactions, results),
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

  /**
   * What a view call reads at the state after `header` (its edited state on a dev chain): code
   * through {@link stateAt}'s shared view, storage straight from the storage tries.
   */
  viewState(header: BlockHeader): ViewState {
    const root = this.postStateRoot(header)
    return new ViewStateReader(this.stateAt(root), this.reader(), keccak256)
  }

  /**
   * The account at `address` (lower-case hex, as RPC names it) after `header` (its edited state on
   * a dev chain) when it can be read without waiting: from the accounts read at this root before,
   * the shared view's cache ({@link stateAt}), else straight from the stored trie nodes
   * ({@link TrieReader}: no promise per node). `null`: no account there. `undefined`: not at hand
   * (a node of the path not in the store): read it through {@link stateAfter}. The account may be
   * shared with other readers: not to be written.
   */
  accountNow(header: BlockHeader, address: Hex): Readonly<Account> | null | undefined {
    if (this.reference) return undefined
    const root = this.postStateRoot(header)
    // Roots are never written in place: the same array is the same state (a new head: a new array).
    if (root !== this.nowRoot) {
      this.nowRoot = root
      this.nowAccounts.clear()
    }
    const known = this.nowAccounts.get(address)
    if (known !== undefined) return known
    const addr = new Address(hexToBytes(address))
    const view = this.stateAt(root)
    let account = view.cachedAccount(addr)
    if (account === undefined) {
      const leaf = this.reader().get(root, keccak256(addr.bytes))
      if (leaf === undefined) return undefined
      const read = leaf === null ? null : createAccountFromRLP(leaf)
      view.rememberAccount(addr, read)
      account = read
    }
    if (this.nowAccounts.size >= MAX_NOW_ACCOUNTS) this.nowAccounts.clear()
    this.nowAccounts.set(address, account)
    return account
  }

  /**
   * The value of storage slot `key` (32 bytes) of `address` after `header`, as `getStorage` reads
   * it (no leading zeros; empty for none), when it can be read without waiting: the account from
   * {@link accountNow}, the slot straight from its storage trie's stored nodes. `undefined`: not at
   * hand (read it through {@link stateAfter}).
   */
  storageNow(header: BlockHeader, address: Hex, key: Uint8Array): Uint8Array | undefined {
    if (this.reference) return undefined
    const account = this.accountNow(header, address)
    if (account === undefined) return undefined
    if (account === null) return new Uint8Array()
    const leaf = this.reader().get(account.storageRoot, keccak256(key))
    if (leaf === undefined) return undefined
    return leaf === null ? new Uint8Array() : (RLP.decode(leaf) as Uint8Array)
  }

  /** The synchronous trie reader of view calls and {@link accountNow}, made on first use. */
  private reader(): TrieReader {
    this.trieReader ??= new TrieReader((hash) => this.stateDB.nodeSync(hash))
    return this.trieReader
  }

  /**
   * A read-only state view at `stateRoot` (for RPC reads, proofs and the pool). Views of the few
   * most recent roots are shared, with their caches, so repeated reads at the head do not walk the
   * trie again: callers must not write to it (use {@link vmAt} to execute).
   */
  stateAt(stateRoot: Uint8Array): SharedReadView {
    if (this.reference) {
      // No sharing: a fresh view, with fresh caches, per read.
      return newStateManager(
        this.common,
        this.stateDB.readView(),
        stateRoot,
        new Caches(),
        (o) => new SharedReadView(o),
      )
    }
    const key = bytesToHex(stateRoot)
    const shared = this.readViews.get(key)
    if (shared) return shared
    const caches = growingViewCaches({ accounts: 20_000, slots: 20_000, codes: 1_000 })
    const view = newStateManager(this.common, this.stateDB.readView(), stateRoot, caches, (o) => new SharedReadView(o))
    this.readViews.set(key, view)
    if (this.readViews.size > 4) this.readViews.delete(this.readViews.keys().next().value as string)
    return view
  }

  /**
   * A VM over a private, throw-away view of the state after `header` (its edited state on a dev
   * chain: {@link postStateRoot}) (eth_call, gas estimation, tracing, replay). Its writes stay in its own caches; what it has not written it reads through
   * the shared view of {@link stateAt}, whose caches stay warm across calls. Writes must run inside
   * a state checkpoint that is reverted (or stays open): see {@link ReadThroughStateManager}.
   */
  async vmAt(header: BlockHeader, store: ChainStore, common: Common = header.common): Promise<VM> {
    const root = this.postStateRoot(header)
    if (this.reference) {
      const stateManager = newStateManager(this.common, this.stateDB.readView(), root)
      const vm = await createVM({ common: ownCopy(common), stateManager, blockchain: new ChainView(store, header) })
      useReferenceAnalysis(vm.evm)
      return vm
    }
    const base = this.stateAt(root)
    const stateManager = newStateManager(
      this.common,
      this.stateDB.readView(),
      root,
      new Caches(),
      (o) => new ReadThroughStateManager(o, base),
    )
    return createVM({ common: ownCopy(common), stateManager, blockchain: new ChainView(store, header) })
  }

  /** The block fields the transfer fast path needs, or undefined when the rules exclude it. */
  private blockEnv(builder: Builder): BlockEnv | undefined {
    if (!this.fastTransfers || !fastPathAllowed(this.common)) return undefined
    const h = (builder as unknown as BuilderInternals).headerData
    const precompiles = (this.vm.evm as unknown as { precompiles: Map<string, unknown> }).precompiles
    return {
      accounts: new TransferAccounts(this.vm.stateManager),
      gasLimit: BigInt(h.gasLimit as bigint),
      baseFee: BigInt((h.baseFeePerGas as bigint | undefined) ?? 0n),
      coinbase: new Address(h.coinbase ? (h.coinbase as Uint8Array) : new Uint8Array(20)),
      precompiles,
      precompilesLow: allPrecompilesLow(precompiles),
      maxTxGas: this.common.isActivatedEIP(7825) ? this.common.param('maxTransactionGasLimit') : undefined,
    }
  }

  /** Runs `tx` in the block being built: a plain transfer directly, anything else through the EVM. */
  private async addTx(builder: Builder, tx: TypedTransaction, env: BlockEnv | undefined): Promise<RunTxResult> {
    if (env) {
      const b = builder as unknown as BuilderInternals
      if (!b.checkpointed) {
        await this.vm.evm.journal.checkpoint()
        b.checkpointed = true
      }
      const result = await runFastTransfer(env, tx, txSender(tx), builder.gasUsed)
      if (result) {
        this.fastCount++
        b.transactions.push(tx)
        b.transactionResults.push(result)
        builder.gasUsed += result.blockGasSpent
        b._minerValue += result.minerValue
        return result
      }
      // The EVM reads and writes state itself: the transfers' accounts are written first.
      await env.accounts.flush()
    }
    if (!isImpersonatedTx(tx)) return addTx(builder, tx, this.common, this.reference)
    // Anvil skips EIP-3607 for an impersonated sender (a contract may send, dev chains only).
    const restore = allowCodeSender(this.vm, txSender(tx))
    try {
      return await addTx(builder, tx, this.common, this.reference)
    } finally {
      restore()
    }
  }

  /** The VM of `common`'s fork, over the executor's one state manager (made on first use). */
  private async useFork(common: Common): Promise<void> {
    let vm = this.vms.get(common)
    if (!vm) {
      vm = await createVM({ common, stateManager: this.vm.stateManager, blockchain: this.view })
      if (this.reference) useReferenceAnalysis(vm.evm)
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

/** Most accounts {@link Executor.accountNow} keeps by address for one root (then it starts over). */
const MAX_NOW_ACCOUNTS = 10_000

function toReceipts(txs: readonly TypedTransaction[], results: RunTxResult[]): StoredReceipt[] {
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
