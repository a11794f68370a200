import { WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, type Hex, hexToBytes, TypedEmitter } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { Account } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { type ChainModules, type ChainOptions, DEFAULT_STATE_CACHE_BYTES, type OpenReport } from './chain-options.ts'
import { type ChainParts, setChainParts } from './chain-parts.ts'
import { type MethodTracer, traceChainParts } from './chain-tracing.ts'
import { type DevChain, DevChainControls } from './dev/dev-chain.ts'
import type { EditedStates } from './dev/edited-states.ts'
import type { SenderOverrides } from './dev/sender-overrides.ts'
import { type EngineData, engineDataOf } from './engine-data.ts'
import { ChainErrorCode } from './errors.ts'
import type { ChainEvents } from './events.ts'
import {
  type BlockTxSource,
  type BuildHeader,
  type BuildResult,
  Executor,
  type ParentBlock,
} from './execution/executor.ts'
import { toleratedMissingContracts } from './execution/system-calls.ts'
import type { ChainFork, EngineChain, GossipChain, RpcChain } from './faces.ts'
import type { ViewState } from './fast/view-call/interpreter.ts'
import { forkGenesis, forkGenesisBlock } from './fork/fork-start.ts'
import { RemoteState } from './fork/remote-state.ts'
import { type BlockCommitter, ImporterCommitter } from './import/block-committer.ts'
import {
  BlockProcessor,
  DEFAULT_BLOCK_PROCESSOR_OPTIONS,
  type PreValidation,
  type ProcessOptions,
  type ProcessResult,
} from './import/block-processor.ts'
import type { BlockSource, BlockVerifier } from './import/block-verifier.ts'
import { BlockImporter } from './import/importer.ts'
import { repairHead } from './import/repair-head.ts'
import { ChainCommons } from './rules/common.ts'
import { predatesDevPredeploys } from './rules/create2-deployer.ts'
import { type GenesisSpec, parseGenesis } from './rules/genesis.ts'
import { buildGenesisBlock } from './rules/genesis-block.ts'
import type { PreimageIndex } from './state/preimages.ts'
import { StateDB } from './state/state-db.ts'
import type { StoredReceipt } from './store/receipt.ts'
import { ChainStore, type HeadName, type TxLocation } from './store/store.ts'
import {
  META_GENESIS,
  META_GENESIS_HASH,
  META_SCHEMA,
  readStoredGenesis,
  SCHEMA_VERSION,
} from './store/stored-genesis.ts'

function describeSchedule(spec: GenesisSpec): string {
  const later = spec.schedule.forks.filter(
    (f) => (f.block !== undefined && f.block > 0n) || (f.timestamp !== undefined && f.timestamp > spec.timestamp),
  )
  return later.length === 0 ? spec.hardfork : `${spec.hardfork}, then ${later.map((f) => f.name).join(', ')}`
}

function sameSchedule(a: GenesisSpec, b: GenesisSpec): boolean {
  return (
    JSON.stringify(a.schedule, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
    JSON.stringify(b.schedule, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  )
}

/**
 * The chain, opened over a KV store: `Chain.open` initialises a new datadir from a genesis or
 * checks an existing one belongs to the same chain, then repairs an incomplete head before anything
 * reads it. Other packages hold it by its faces (`./faces.ts`), one per kind of consumer:
 * {@link RpcChain} (JSON-RPC), {@link GossipChain} (the network), {@link EngineChain} (a consensus
 * engine), each over `ChainReader` (blocks, receipts, indexes, head, checkpoints), `StateReader`
 * (state at a root or after a block) and the events.
 * Its parts (store, executor, importer, front door) are private to this package (`chain-parts.ts`).
 */
export class Chain implements RpcChain, GossipChain, EngineChain {
  readonly events: TypedEmitter<ChainEvents>
  readonly #store: ChainStore
  readonly #executor: Executor
  readonly #importer: BlockImporter
  readonly #blocks: BlockProcessor
  readonly #stateDB: StateDB
  readonly #committer: BlockCommitter
  readonly #dev: DevChainControls
  readonly #engineData: EngineData
  /** Fork mode: the remote the state is read from. */
  readonly #remote: RemoteState | undefined

  private constructor(
    /** The shared Common of each fork of the chain's schedule. */
    readonly commons: ChainCommons,
    readonly genesis: GenesisSpec,
    readonly genesisBlock: Block,
    /** What start-up found and did. */
    readonly report: OpenReport,
    parts: ChainParts,
    dev: { edits: EditedStates; senders: SenderOverrides },
    remote: RemoteState | undefined,
  ) {
    this.#remote = remote
    this.events = parts.events
    this.#store = parts.store
    this.#executor = parts.executor
    this.#importer = parts.importer
    this.#blocks = parts.blocks
    this.#stateDB = parts.stateDB
    this.#committer = new ImporterCommitter({ importer: parts.importer })
    this.#dev = new DevChainControls(parts, dev.edits, dev.senders)
    this.#engineData = engineDataOf(parts.store)
    setChainParts(this, parts)
  }

  static async open(opts: ChainOptions, modules: ChainModules): Promise<Chain> {
    const { kv, logger } = modules
    if (opts.fork && opts.genesis === undefined) opts = { ...opts, genesis: forkGenesis(opts.fork, opts.forkHardfork) }
    const { stored, defaultHardfork } = await readStoredGenesis(kv)
    const source = opts.genesisSource ?? 'genesis'
    // A datadir made before the dev genesis deployed the system contracts (or the CREATE2 deployer)
    // keeps its stored genesis.
    if (opts.genesis !== undefined && stored !== undefined && predatesDevPredeploys(opts.genesis, stored)) {
      opts = { ...opts, genesis: undefined }
    }
    if (opts.genesis === undefined && stored === undefined) {
      throw new CairnError(ChainErrorCode.GENESIS_INVALID, 'the datadir holds no chain and no genesis was given', {
        fault: 'caller',
        hint: 'run `cairn init --genesis FILE --datadir DIR` or start with --dev',
      })
    }
    // A genesis that names no fork gets the default ruleset of the version that created the datadir.
    const spec = parseGenesis(opts.genesis ?? stored, opts.genesis === undefined ? 'stored genesis' : source, {
      defaultHardfork,
    })
    const commons = new ChainCommons(
      spec.schedule,
      modules.customCrypto,
      opts.reference === true,
      opts.codeSizeLimit,
      modules.engine.blockReward,
    )
    const common = commons.fork(spec.hardfork)
    const store = new ChainStore(kv, commons, modules.onCorruption)
    const stateDB = new StateDB(kv, {
      nodeCacheBytes: kv.kind === 'leveldb' ? (opts.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES) : 0,
    })
    if (modules.metrics !== null && stateDB.ring !== undefined) modules.metrics.stateNodeCache.source = stateDB.ring
    const fork = opts.fork
    let remote: RemoteState | undefined
    if (fork) {
      const r = new RemoteState(
        { blockNumber: fork.blockNumber, stateRoot: fork.stateRoot, fresh: stored === undefined },
        { client: fork.client, sink: stateDB },
      )
      remote = r
      stateDB.remote = r
      await stateDB.adopt(fork.firstNodes)
      store.forkBelow = { number: fork.blockNumber, hashAt: (n) => r.blockHash(n) }
    }
    const genesisBlock = fork ? forkGenesisBlock(fork, common).block : await buildGenesisBlock(spec, common, stateDB)
    const report: OpenReport = { created: false, rolledBack: 0, warnings: spec.warnings }

    const storedHash = await store.meta.get(META_GENESIS_HASH)
    if (storedHash && !equalsBytes(storedHash, genesisBlock.hash())) {
      stateDB.discard()
      throw new CairnError(
        ChainErrorCode.GENESIS_MISMATCH,
        `the datadir belongs to another chain: its genesis is ${bytesToHex(storedHash)}, ${source} gives ${bytesToHex(genesisBlock.hash())}`,
        { fault: 'caller', hint: 'use another --datadir, or start without --genesis to use the stored chain' },
      )
    }
    if (stored !== undefined && opts.genesis !== undefined) {
      const old = parseGenesis(stored, 'stored genesis', { defaultHardfork })
      if (old.chainId !== spec.chainId || old.hardfork !== spec.hardfork || !sameSchedule(old, spec)) {
        stateDB.discard()
        throw new CairnError(
          ChainErrorCode.GENESIS_MISMATCH,
          `the datadir belongs to chain id ${old.chainId} (${describeSchedule(old)}); ${source} gives chain id ${spec.chainId} (${describeSchedule(spec)})`,
          {
            fault: 'caller',
            hint: 'use another --datadir, or start without --genesis/--chain-id to use the stored chain',
          },
        )
      }
    }
    if (!storedHash) {
      const batch = new WriteBatch()
      store.putBlock(batch, genesisBlock, [])
      store.totalDifficulty.put(genesisBlock.hash(), genesisBlock.header.difficulty, batch)
      store.setCanonical(batch, genesisBlock)
      for (const name of ['latest', 'safe', 'finalized'] as HeadName[]) store.setHead(batch, name, genesisBlock.hash())
      store.meta.put(META_GENESIS, new TextEncoder().encode(JSON.stringify(opts.genesis)), batch)
      store.meta.put(META_GENESIS_HASH, genesisBlock.hash(), batch)
      store.meta.put(META_SCHEMA, Uint8Array.of(SCHEMA_VERSION), batch)
      stateDB.drainInto(batch)
      await batch.write(kv)
      report.created = true
      logger.info(
        { hash: bytesToHex(genesisBlock.hash()), chainId: Number(spec.chainId) },
        'initialised new chain from genesis',
      )
    } else {
      stateDB.discard()
    }

    // Dev mode plugs in through two hooks: the impersonated senders here, the edited states below.
    const senders = await DevChainControls.openSenders(kv)
    store.senders = senders
    const { head, rolledBack } = await repairHead(store, stateDB, genesisBlock, logger)
    report.rolledBack = rolledBack
    const raw = (opts.genesis ?? stored) as { config?: { pragueTime?: unknown } }
    const editedStates = await DevChainControls.openEdits(kv)
    // A fork of a dev remote whose head state was edited: the state its proofs give is the edited one.
    if (
      fork &&
      !equalsBytes(fork.stateRoot, genesisBlock.header.stateRoot) &&
      equalsBytes(head.hash(), genesisBlock.hash())
    ) {
      const batch = new WriteBatch()
      const done = editedStates.stage(batch, genesisBlock.header, fork.stateRoot)
      await batch.write(kv)
      done()
    }
    const executor = await Executor.create(
      {
        commons,
        toleratedMissingContracts: toleratedMissingContracts(spec.alloc, raw.config),
        reference: opts.reference === true,
      },
      {
        store,
        stateDB,
        genesis: genesisBlock.header,
        engine: modules.engine,
        logger: logger.child({ module: 'executor' }),
        rootAfter: (header) => editedStates.rootAfter(header),
        ...(modules.extendVM ? { extendVM: modules.extendVM } : {}),
      },
    )
    const events = new TypedEmitter<ChainEvents>()
    const checkpoint = async (name: 'safe' | 'finalized') => {
      const hash = await store.getHeadHash(name)
      return (hash && (await store.getHeader(hash))) || genesisBlock.header
    }
    const importer = new BlockImporter(
      { head, safe: await checkpoint('safe'), finalized: await checkpoint('finalized') },
      {
        store,
        stateDB,
        executor,
        engine: modules.engine,
        events,
        logger: logger.child({ module: 'import' }),
        metrics: modules.metrics,
        ...(modules.recovery ? { recovery: modules.recovery } : {}),
      },
    )
    // From now on a canonical number at or below the head without an entry is damage.
    store.tipNumber = () => importer.head.header.number
    const blocks = new BlockProcessor(
      { ...DEFAULT_BLOCK_PROCESSOR_OPTIONS, ...opts.blocks },
      {
        store,
        importer,
        executor,
        engine: modules.engine,
        logger: logger.child({ module: 'blocks' }),
        metrics: modules.metrics,
        now: modules.now ?? (() => Date.now() / 1000),
        ...(modules.recovery ? { recovery: modules.recovery } : {}),
      },
    )
    const chain = new Chain(
      commons,
      spec,
      genesisBlock,
      report,
      {
        store,
        stateDB,
        executor,
        importer,
        blocks,
        events,
      },
      { edits: editedStates, senders },
      remote,
    )
    modules.metrics?.headBlock.set(Number(head.header.number))
    modules.metrics?.headTimestamp.set(Number(head.header.timestamp))
    return chain
  }

  /**
   * Fork mode: the remote the state is read from (its URL, changeable: anvil_setRpcUrl) and the
   * fork block; undefined for a chain of its own.
   */
  get fork(): ChainFork | undefined {
    const remote = this.#remote
    if (remote === undefined) return undefined
    return {
      url: remote.client.url,
      blockNumber: remote.opts.blockNumber,
      setUrl: (url: string) => remote.client.setUrl(url),
      call: <T>(method: string, params: unknown[]) => remote.client.call<T>(method, params),
      fetched: remote.fetched,
      requests: remote.client.requests,
      untouched: (address: string) => remote.untouched(hexToBytes(address as Hex)),
      warm: (address: string) => {
        remote.ensureAccount(hexToBytes(address as Hex))?.catch(() => {})
      },
    }
  }

  /** Whether the chain runs without its speed shims (`ChainOptions.reference`). */
  get reference(): boolean {
    return this.#executor.reference
  }

  get chainId(): bigint {
    return this.genesis.chainId
  }

  /**
   * The Common of the next block's fork: what transactions sent now are decoded and checked
   * with (the pool, RPC). Its timestamp is taken as now (or just after the head's), and it is a
   * proof-of-stake block when the head is one (difficulty 0).
   */
  get common(): Common {
    const h = this.#importer.head.header
    const now = BigInt(Math.floor(Date.now() / 1000))
    const timestamp = now > h.timestamp ? now : h.timestamp + 1n
    return this.commons.at({ number: h.number + 1n, timestamp, difficulty: h.difficulty === 0n ? 0n : 1n })
  }

  // --- Blocks from outside, and the engines' verify-and-commit path ---

  /**
   * The one front door for blocks from outside (gossip, sync, RPC, a file): cheap checks, the
   * import queue, the orphan pool and the bad-block cache (`./import/block-processor.ts`). Answers with a
   * typed outcome; a bad block is a `BlockError` saying whether the sender is to blame, never a throw.
   */
  processBlock(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    return this.#blocks.processBlock(input, opts)
  }

  /**
   * The front door's cheap checks alone, without execution (what gossip runs before forwarding);
   * a block found valid is then handed to {@link processBlock} with `preValidated: true`.
   */
  preValidate(input: Block | Uint8Array, source?: BlockSource): Promise<PreValidation> {
    return this.#blocks.preValidate(input, source)
  }

  /**
   * Blocks to be imported in a row, decoded and with their senders recovered off the main thread
   * in one request (see `BlockProcessor.prepare`): what a range sync hands to {@link processBlock}.
   */
  prepareBlocks(inputs: Uint8Array[]): Promise<(Block | Uint8Array)[]> {
    return this.#blocks.prepare(inputs)
  }

  /**
   * Verifies a block on a parent without committing it: the front door's bad-block cache, policies
   * and checks, then execution (see `BlockVerifier`).
   */
  get verifier(): BlockVerifier {
    return this.#blocks
  }

  /** Commits an executed block (a verifier's result, or the producer's own) without executing it again. */
  get committer(): BlockCommitter {
    return this.#committer
  }

  /**
   * Builds a block on `parent` (stored, or executed and not committed) from `txs`, executing each:
   * a producer's proposal, not committed (hand it to {@link committer}).
   */
  build(parent: ParentBlock, header: BuildHeader, txs: BlockTxSource): Promise<BuildResult> {
    return this.#executor.build(parent, header, txs)
  }

  /** Runs `fn` while no block commits (the head stays put across its awaits). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#importer.exclusive(fn)
  }

  /**
   * Makes the canonical block `hash` final, with the engine's proof (kept in the `finality`
   * bucket): an engine that proves finality (BFT) pushes it here. Finality only moves forward, and
   * the importer refuses any block whose branch would revert it. Emits `finalized`.
   */
  setFinalized(hash: Uint8Array, certificate?: Uint8Array): Promise<void> {
    return this.#importer.setFinalized(hash, certificate)
  }

  /** Makes the canonical block `hash` the safe block. Emits `safe`. */
  setSafe(hash: Uint8Array): Promise<void> {
    return this.#importer.setSafe(hash)
  }

  /**
   * Deletes the stored side blocks `hashes` (an engine's pruning of branches its fork choice can
   * no longer take), while no block commits; canonical and unknown ones are skipped. Returns how
   * many were deleted.
   */
  pruneSideBlocks(hashes: readonly Uint8Array[]): Promise<number> {
    return this.exclusive(async () => {
      const store = this.#store
      const batch = new WriteBatch()
      let deleted = 0
      for (const hash of hashes) {
        const number = await store.getBlockNumber(hash)
        if (number === undefined) continue
        const canonical = await store.getCanonicalHash(number)
        if (canonical && equalsBytes(canonical, hash)) continue
        store.deleteSideBlock(batch, hash)
        deleted++
      }
      if (deleted > 0) {
        await batch.write(store.kv)
        store.clearCaches()
      }
      return deleted
    })
  }

  /** The engine's own records, kept beside the chain (validator schedules, pending evidence). */
  get engineData(): EngineData {
    return this.#engineData
  }

  /** A dev chain's controls (state edits, rewinds, impersonation). */
  get dev(): DevChain {
    return this.#dev
  }

  // --- ChainReader ---

  get head(): Block {
    return this.#importer.head
  }

  get finalizedHeader(): BlockHeader {
    return this.#importer.forkChoice.finalized()
  }

  get safeHeader(): BlockHeader {
    return this.#importer.forkChoice.safe()
  }

  async checkpoint(name: HeadName): Promise<Block> {
    if (name === 'latest') return this.head
    const hash = await this.#store.getHeadHash(name)
    return hash ? this.#store.mustGetBlock(hash) : this.genesisBlock
  }

  getHeader(hash: Uint8Array): Promise<BlockHeader | undefined> {
    return this.#store.getHeader(hash)
  }

  getBlock(hash: Uint8Array): Promise<Block | undefined> {
    return this.#store.getBlock(hash)
  }

  mustGetBlock(hash: Uint8Array): Promise<Block> {
    return this.#store.mustGetBlock(hash)
  }

  getBlockByNumber(number: bigint): Promise<Block | undefined> {
    return this.#store.getBlockByNumber(number)
  }

  getCanonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    return this.#store.getCanonicalHash(number)
  }

  getBlockNumber(hash: Uint8Array): Promise<bigint | undefined> {
    return this.#store.getBlockNumber(hash)
  }

  getReceipts(hash: Uint8Array): Promise<StoredReceipt[] | undefined> {
    return this.#store.getReceipts(hash)
  }

  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    return this.#store.getTxLocation(txHash)
  }

  getTransactionCount(hash: Uint8Array): Promise<number | undefined> {
    return this.#store.getTransactionCount(hash)
  }

  getBlockBytes(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#store.getBlockBytes(hash)
  }

  getBlockBytesByNumber(number: bigint): Promise<Uint8Array | undefined> {
    return this.#store.getBlockBytesByNumber(number)
  }

  getFinality(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#store.getFinality(hash)
  }

  // --- StateReader ---

  postStateRoot(header: BlockHeader): Uint8Array {
    return this.#executor.views.postStateRoot(header)
  }

  stateAt(stateRoot: Uint8Array): MerkleStateManager {
    return this.#executor.views.stateAt(stateRoot)
  }

  stateAfter(header: BlockHeader): MerkleStateManager {
    return this.#executor.views.stateAfter(header)
  }

  hasState(stateRoot: Uint8Array): boolean {
    return this.#executor.views.hasState(stateRoot)
  }

  accountNow(header: BlockHeader, address: Hex): Readonly<Account> | null | undefined {
    return this.#executor.views.accountNow(header, address)
  }

  storageNow(header: BlockHeader, address: Hex, key: Uint8Array): Uint8Array | undefined {
    return this.#executor.views.storageNow(header, address, key)
  }

  viewState(header: BlockHeader): ViewState {
    return this.#executor.views.viewState(header)
  }

  vmAt(header: BlockHeader, common?: Common): Promise<VM> {
    return this.#executor.views.vmAt(header, this.#store, common)
  }

  async readPreimages(): Promise<PreimageIndex | undefined> {
    return this.#executor.preimages?.read()
  }

  // --- A read replica (an RPC read thread over the same LevelDB) ---

  /**
   * What a replica compares to know it must catch up: the store's cache epoch (moved by a rewind)
   * and the dev state edits' version.
   */
  get replicaVersion(): { cacheEpoch: number; edits: number } {
    return { cacheEpoch: this.#store.cacheEpoch, edits: this.#dev.edits.version }
  }

  /**
   * A replica's head becomes the stored block `hash` (its primary committed it), after clearing its
   * caches (`clearCaches`: the primary rewound) and re-reading the dev state edits (`reloadEdits`).
   * False: the block is not stored.
   */
  async followHead(hash: Uint8Array, opts: { clearCaches: boolean; reloadEdits: boolean }): Promise<boolean> {
    if (opts.clearCaches) this.#store.clearCaches()
    if (opts.reloadEdits) await this.#dev.edits.reload(this.#store.kv)
    const block = await this.#store.getBlock(hash)
    if (block === undefined) return false
    const fc = this.#importer.forkChoice
    fc.devReset({ head: block, safe: fc.safe(), finalized: fc.finalized() })
    return true
  }

  /**
   * Spans around block import, execution and building, through `tracer` (a composition root's
   * tracer: the chain knows no tracing library).
   */
  trace(tracer: MethodTracer): void {
    traceChainParts(tracer, this.#importer, this.#executor)
  }
}
