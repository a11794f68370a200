import type { CorruptionSink, KVStore } from '@cairn/db'
import { Bucket, bucketKey, bytesCodec, Repository, WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, type Logger, TypedEmitter } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { Common, CustomCrypto } from '@ethereumjs/common'
import { type BlockCommitter, ImporterCommitter } from './block-committer.ts'
import {
  BlockProcessor,
  type BlockProcessorOptions,
  DEFAULT_BLOCK_PROCESSOR_OPTIONS,
  type ProcessOptions,
  type ProcessResult,
} from './block-processor.ts'
import type { BlockVerifier } from './block-verifier.ts'
import { ChainCommons, DEFAULT_HARDFORK } from './common.ts'
import { EditedStates } from './edited-states.ts'
import type { ChainEngine } from './engine.ts'
import { ChainErrorCode } from './errors.ts'
import type { ChainEvents } from './events.ts'
import { Executor } from './executor.ts'
import { type GenesisSpec, parseGenesis } from './genesis.ts'
import { buildGenesisBlock } from './genesis-block.ts'
import { BlockImporter } from './importer.ts'
import type { ChainMetrics } from './metrics.ts'
import type { SenderRecovery } from './recovery.ts'
import { StateDB } from './state-db.ts'
import { ChainStore, type HeadName } from './store.ts'
import { toleratedMissingContracts } from './system-calls.ts'
import { predatesSystemContracts } from './system-contracts.ts'

export interface ChainOptions {
  /**
   * The genesis to start from. Required for a new datadir; for an existing one it must match the
   * stored genesis (omit it to use the stored one).
   */
  genesis?: unknown
  /** Where the genesis came from, for error messages. */
  genesisSource?: string
  /** Limits of the block front door (`processBlock`). */
  blocks?: Partial<BlockProcessorOptions>
  /**
   * Bytes of state-trie nodes kept in memory in front of LevelDB (`StateDB`'s node ring; default
   * {@link DEFAULT_STATE_CACHE_BYTES}); 0 for none. Unused with an in-memory store.
   */
  stateCacheBytes?: number
}

/** The node ring's default size: the encoded nodes of ~200,000 accounts' trie. */
export const DEFAULT_STATE_CACHE_BYTES = 64 * 1024 * 1024

export interface ChainModules {
  kv: KVStore
  engine: ChainEngine
  logger: Logger
  metrics: ChainMetrics | null
  customCrypto?: CustomCrypto
  /** Recovers the senders of received blocks on worker threads (`workerRecovery`). */
  recovery?: SenderRecovery
  /** Seconds since the epoch, for the front door's future-timestamp check (injected in tests). */
  now?: () => number
  /** Told of each damaged entry a read of the chain store finds (DB_CORRUPT), before it throws. */
  onCorruption?: CorruptionSink
}

/** What start-up found and did, for the node to report. */
export interface OpenReport {
  created: boolean
  /** Blocks rolled back because they were incomplete (a crash mid-write). */
  rolledBack: number
  warnings: string[]
}

const utf8Codec = {
  encode: (s: string) => new TextEncoder().encode(s),
  decode: (b: Uint8Array) => new TextDecoder().decode(b),
}
const META_GENESIS = 'genesis'
const META_GENESIS_HASH = 'genesisHash'
const META_SCHEMA = 'schemaVersion'
/**
 * 1: a genesis naming no fork ran Prague from block 0. 2: it runs the default of this version
 * ({@link DEFAULT_HARDFORK}, Osaka). A datadir keeps the ruleset it was created with.
 */
const SCHEMA_VERSION = 2
const SCHEMA_DEFAULTS: Record<number, string> = { 1: 'prague', 2: DEFAULT_HARDFORK }

/** The stored genesis JSON, and the default ruleset of the version that created the datadir. */
export async function readStoredGenesis(kv: KVStore): Promise<{ stored: unknown; defaultHardfork: string }> {
  const meta = new Repository(kv, Bucket.meta, utf8Codec, bytesCodec)
  const raw = await meta.get(META_GENESIS)
  const schema = (await meta.get(META_SCHEMA))?.[0] ?? SCHEMA_VERSION
  return {
    stored: raw ? JSON.parse(new TextDecoder().decode(raw)) : undefined,
    defaultHardfork: SCHEMA_DEFAULTS[schema] ?? DEFAULT_HARDFORK,
  }
}

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
 * The chain: its store, executor, import pipeline and events, opened over a KV store.
 * `Chain.open` initialises a new datadir from a genesis or checks an existing one belongs to the
 * same chain, then repairs an incomplete head before anything reads it.
 */
export class Chain {
  readonly events = new TypedEmitter<ChainEvents>()
  #committer!: BlockCommitter

  private constructor(
    /** The shared Common of each fork of the chain's schedule. */
    readonly commons: ChainCommons,
    readonly genesis: GenesisSpec,
    readonly genesisBlock: Block,
    readonly store: ChainStore,
    readonly stateDB: StateDB,
    readonly executor: Executor,
    readonly importer: BlockImporter,
    readonly report: OpenReport,
    /** The front door for blocks from outside (see {@link processBlock}). */
    readonly blocks: BlockProcessor,
    /** A dev chain's states edited without a block (anvil_setBalance and kin; see `editHeadState`). */
    readonly editedStates: EditedStates,
  ) {}

  /**
   * The one front door for blocks from outside (gossip, sync, RPC, a file): cheap checks, the
   * import queue, the orphan pool and the bad-block cache (`./block-processor.ts`). Answers with a
   * typed outcome; a bad block is a `BlockError` saying whether the sender is to blame, never a throw.
   */
  processBlock(input: Block | Uint8Array, opts: ProcessOptions): Promise<ProcessResult> {
    return this.blocks.processBlock(input, opts)
  }

  /**
   * Verifies a block on a parent without committing it: the front door's bad-block cache, policies
   * and checks, then execution (see `BlockVerifier`). A narrow face an engine holds instead of the
   * importer and the executor.
   */
  get verifier(): BlockVerifier {
    return this.blocks
  }

  /** Commits an executed block (a verifier's result, or the producer's own) without executing it again. */
  get committer(): BlockCommitter {
    return this.#committer
  }

  /**
   * Blocks to be imported in a row, decoded and with their senders recovered off the main thread
   * in one request (see `BlockProcessor.prepare`): what a range sync hands to {@link processBlock}.
   */
  prepareBlocks(inputs: Uint8Array[]): Promise<(Block | Uint8Array)[]> {
    return this.blocks.prepare(inputs)
  }

  static async open(opts: ChainOptions, modules: ChainModules): Promise<Chain> {
    const { kv, logger } = modules
    const { stored, defaultHardfork } = await readStoredGenesis(kv)
    const source = opts.genesisSource ?? 'genesis'
    // A datadir made before the dev genesis deployed the system contracts keeps its stored genesis.
    if (opts.genesis !== undefined && stored !== undefined && predatesSystemContracts(opts.genesis, stored)) {
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
    const commons = new ChainCommons(spec.schedule, modules.customCrypto)
    const common = commons.fork(spec.hardfork)
    const store = new ChainStore(kv, commons, modules.onCorruption)
    const stateDB = new StateDB(kv, {
      nodeCacheBytes: kv.kind === 'leveldb' ? (opts.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES) : 0,
    })
    if (modules.metrics !== null && stateDB.ring !== undefined) modules.metrics.stateNodeCache.source = stateDB.ring
    const genesisBlock = await buildGenesisBlock(spec, common, stateDB)
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

    await store.senderOverrides.load()
    const { head, rolledBack } = await repairHead(store, stateDB, genesisBlock, logger)
    report.rolledBack = rolledBack
    const raw = (opts.genesis ?? stored) as { config?: { pragueTime?: unknown } }
    const editedStates = await EditedStates.load(kv)
    const executor = await Executor.create(
      { commons, toleratedMissingContracts: toleratedMissingContracts(spec.alloc, raw.config) },
      {
        store,
        stateDB,
        genesis: genesisBlock.header,
        engine: modules.engine,
        logger: logger.child({ module: 'executor' }),
        editedStates,
      },
    )
    const chain = new Chain(
      commons,
      spec,
      genesisBlock,
      store,
      stateDB,
      executor,
      null as never,
      report,
      null as never,
      editedStates,
    )
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
        events: chain.events,
        logger: logger.child({ module: 'import' }),
        metrics: modules.metrics,
        ...(modules.recovery ? { recovery: modules.recovery } : {}),
      },
    )
    ;(chain as { importer: BlockImporter }).importer = importer
    // From now on a canonical number at or below the head without an entry is damage.
    store.tipNumber = () => importer.head.header.number
    ;(chain as { blocks: BlockProcessor }).blocks = new BlockProcessor(
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
    chain.#committer = new ImporterCommitter({ importer })
    modules.metrics?.headBlock.set(Number(head.header.number))
    modules.metrics?.headTimestamp.set(Number(head.header.timestamp))
    return chain
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
    const h = this.importer.head.header
    const now = BigInt(Math.floor(Date.now() / 1000))
    const timestamp = now > h.timestamp ? now : h.timestamp + 1n
    return this.commons.at({ number: h.number + 1n, timestamp, difficulty: h.difficulty === 0n ? 0n : 1n })
  }

  /** The current head block. */
  get head(): Block {
    return this.importer.head
  }

  /**
   * Makes the canonical block `hash` final, with the engine's proof (kept in the `finality`
   * bucket): an engine that proves finality (BFT) pushes it here. Finality only moves forward, and
   * the importer refuses any block whose branch would revert it. Emits `finalized`.
   */
  setFinalized(hash: Uint8Array, certificate?: Uint8Array): Promise<void> {
    return this.importer.setFinalized(hash, certificate)
  }

  /** Makes the canonical block `hash` the safe block. Emits `safe`. */
  setSafe(hash: Uint8Array): Promise<void> {
    return this.importer.setSafe(hash)
  }

  /** The block the engine reports as `safe` or `finalized`, or the head for `latest`. */
  async checkpoint(name: HeadName): Promise<Block> {
    if (name === 'latest') return this.head
    const hash = await this.store.getHeadHash(name)
    return hash ? this.store.mustGetBlock(hash) : this.genesisBlock
  }
}

/**
 * Walks back from the stored head to the newest block whose header, body, receipts, canonical
 * entry and state root are all present, and makes it the head. A block is written in one atomic
 * batch, so this only finds work after storage-level damage or an older writer; it runs on every
 * start so that nothing reads a half-written head.
 */
export async function repairHead(
  store: ChainStore,
  stateDB: StateDB,
  genesis: Block,
  logger: Logger,
): Promise<{ head: Block; rolledBack: number }> {
  const headHash = (await store.getHeadHash('latest')) ?? genesis.hash()
  const dropped: { number: bigint; hash: Uint8Array; block: Block | undefined }[] = []
  let hash = headHash
  for (;;) {
    const [header, block, receipts, number] = await Promise.all([
      store.getHeader(hash),
      // An older writer's block without its body is repaired here, not reported as damage.
      store.bodies.getRaw(hash).then((body) => (body ? store.getBlock(hash).catch(() => undefined) : undefined)),
      store.receipts.getRaw(hash),
      store.hashToNumber.get(hash),
    ])
    const canonical = number === undefined ? undefined : await store.getCanonicalHash(number)
    const complete =
      header !== undefined &&
      block !== undefined &&
      receipts !== undefined &&
      number !== undefined &&
      canonical !== undefined &&
      equalsBytes(canonical, hash) &&
      stateDB.has(header.stateRoot)
    if (complete) break
    if (!header || header.number === 0n) {
      throw new CairnError(ChainErrorCode.CORRUPT, `cannot find a complete block below head ${bytesToHex(headHash)}`, {
        hint: 'the datadir is damaged beyond repair; restore it from a backup',
      })
    }
    dropped.push({ number: header.number, hash, block })
    hash = header.parentHash
  }
  const head = await store.mustGetBlock(hash)
  if (dropped.length > 0) {
    const batch = new WriteBatch()
    for (const d of dropped) {
      const canonical = await store.getCanonicalHash(d.number)
      if (canonical && equalsBytes(canonical, d.hash)) store.canonical.del(d.number, batch)
      if (d.block) for (const tx of d.block.transactions) store.txIndex.del(tx.hash(), batch)
      // Forget the incomplete block entirely, so that it can be imported again.
      for (const repo of [store.headers, store.bodies, store.receipts, store.hashToNumber] as const) {
        repo.del(d.hash, batch)
      }
      // And its dev state edits (EditedStates, loaded after this), should the same block come back.
      batch.del(bucketKey(Bucket.editedState, d.hash))
    }
    store.setHead(batch, 'latest', hash)
    for (const name of ['safe', 'finalized'] as const) {
      const h = await store.getHeadHash(name)
      const n = h ? await store.hashToNumber.get(h) : undefined
      if (n === undefined || n > head.header.number) store.setHead(batch, name, hash)
    }
    await batch.write(store.kv)
    store.clearCaches()
    logger.warn(
      {
        rolledBack: dropped.length,
        from: Number((dropped[0] as { number: bigint }).number),
        to: Number(head.header.number),
      },
      `head was incomplete (an interrupted write); rolled back ${dropped.length} block(s) to the last complete block ${head.header.number}`,
    )
  }
  return { head, rolledBack: dropped.length }
}
