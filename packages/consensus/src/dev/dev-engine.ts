// The dev sealer: sealing (instant, interval, on demand) and Anvil's chain controls (snapshots,
// reorgs, rewinds, state edits). Automine's turns are instant-sealing.ts; the next block's fields
// and time controls next-block.ts; eth_sendTransaction's wait for its block mined-waiters.ts; the
// pause while blocks cannot be written storage-pause.ts. Admission backpressure lives in the pool
// (txpool/src/admission.ts); the engine only says it drains it.
import type {
  BuildHeader,
  BuildResult,
  EngineChain,
  ExecutedBlock,
  ImportResult,
  ParentBlock,
  StateEdit,
} from '@cairn/chain'
import { type ChainFollower, followChain, type TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Engine, EngineCapabilities } from '../engine.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { devChainRules } from './dev-rules.ts'
import { InstantSealing } from './instant-sealing.ts'
import { MinedWaiters } from './mined-waiters.ts'
import { NextBlock } from './next-block.ts'
import { endOfTime, MAX_TIMESTAMP } from './next-timestamp.ts'
import { StoragePause } from './storage-pause.ts'

export interface DevEngineOptions {
  /** Seconds between blocks; 0 seals as soon as transactions are pending. */
  blockTime: number
  /** Beneficiary of the tips. */
  coinbase: Uint8Array
  /** Most transactions-carrying blocks sealed back to back before yielding to I/O. */
  maxBlocksPerTurn?: number
  /**
   * Every block safe and final at once (default true, one trusted producer). False: no finality,
   * so several dev producers (the in-process network harness) can fork and reorganise.
   */
  instantFinality?: boolean
  /** How long without an arrival ends the pause between blocks under load (ms; instant-sealing.ts `QUIET_MS`). */
  quietMs?: number
  /**
   * Automine paces sealing under load: after a block that was not full, arrivals gather for as long
   * as that block took (bigger blocks, more throughput: the transfer bench runs so). Default false:
   * a ready transaction seals at once with every other ready one, as Anvil's automine (five awaited
   * calls of a `forge script`, five blocks; a filled nonce gap, one block for both).
   */
  automineBatch?: boolean
}

export interface DevEngineModules {
  /** Given here or later by {@link DevEngine.attach} (the node opens the chain with the engine's rules first). */
  chain?: EngineChain
  pool?: TxPool
  logger: Logger
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number
}

/**
 * The dev sealer, as Anvil and `geth --dev` do it: a single trusted producer with no seal. By
 * default a block is sealed the moment a transaction is ready, holding every ready transaction that
 * fits, as Anvil's automine does (a sender that waits for each answer gets one block per
 * transaction; a gap filled seals both in one block). With `automineBatch` sealing is paced under
 * load into bigger blocks (throughput: instant-sealing.ts); with a block time it seals every N
 * seconds, empty blocks included. Every block is final at once.
 */
export class DevEngine implements Engine {
  readonly name = 'dev'
  readonly capabilities: EngineCapabilities = { announcesHeads: true, alwaysRuns: false }
  private timer: NodeJS.Timeout | undefined
  private running = false
  private sealing: Promise<unknown> = Promise.resolve()
  /** Automine's turns (instant-sealing.ts). */
  private readonly instant: InstantSealing
  /** The next block's fields and Anvil's time controls (next-block.ts). */
  private readonly next: NextBlock
  /** Senders of eth_sendTransaction waiting for their transaction's block (mined-waiters.ts). */
  private readonly waiters: MinedWaiters
  /** Sealing paused while block writes fail (storage-pause.ts). */
  private readonly storage: StoragePause
  private unsubscribe: (() => void) | undefined
  /** evm_snapshot: the head, its state (with the state edits made on it so far) and the time offset. */
  private snapshots = new Map<bigint, { hash: Uint8Array; stateRoot: Uint8Array; offsetSeconds: bigint }>()
  private nextSnapshotId = 0n
  /** Seals when transactions arrive (automine); set by the options, evm_setAutomine. */
  private automine: boolean
  /** Seconds between interval blocks, 0 for none; set by the options, evm_setIntervalMining. */
  private intervalSeconds: number
  /** Set while {@link reorg} swaps branches: the pool's re-injections must not start a seal. */
  private reorging = false
  /** A fork's first block's state at start (the dev accounts funded): what {@link reset} goes back to. */
  private forkBase: Uint8Array | undefined

  private attached: { chain: EngineChain; pool: TxPool; logger: Logger; follower: ChainFollower } | undefined
  /** The follower this engine made itself (none given to {@link attach}), stopped with it. */
  private ownFollower: ChainFollower | undefined

  constructor(
    readonly opts: DevEngineOptions,
    private readonly deps: DevEngineModules,
  ) {
    this.automine = opts.blockTime === 0
    this.intervalSeconds = opts.blockTime
    this.next = new NextBlock(opts.coinbase, deps)
    this.waiters = new MinedWaiters({
      pool: () => this.modules.pool,
      head: () => this.modules.chain.head.header,
      next: this.next,
      sealsOnArrival: () => this.running && this.automine,
    })
    this.storage = new StoragePause({
      logger: () => this.modules.logger,
      running: () => this.running,
      seal: () => this.seal(),
      resumed: () => {
        if (this.automine && this.modules.pool.size > 0) this.instant.schedule()
      },
    })
    this.instant = new InstantSealing(opts, {
      attached: () => this.modules,
      next: this.next,
      running: () => this.running,
      reorging: () => this.reorging,
      seal: () => this.seal(),
      sealFailed: (err) => this.sealFailed(err),
    })
    const instant = opts.instantFinality !== false
    this.safeNumber = instant ? devChainRules.safeNumber : undefined
    this.finalizedNumber = instant ? devChainRules.finalizedNumber : undefined
    if (deps.chain && deps.pool) this.attach({ chain: deps.chain, pool: deps.pool })
  }

  /**
   * `follower`: the pool following the chain's events (`followChain`, made by the node); without
   * one the engine makes its own. The pool learns of new heads from the chain's events only:
   * after committing a block the engine waits for the follower, so the next block is built on an
   * up-to-date pool.
   */
  attach(modules: { chain: EngineChain; pool: TxPool; follower?: ChainFollower }): void {
    this.ownFollower?.stop()
    this.ownFollower = modules.follower
      ? undefined
      : followChain(modules.pool, modules.chain.events, { logger: this.deps.logger })
    const follower = modules.follower ?? (this.ownFollower as ChainFollower)
    this.attached = { chain: modules.chain, pool: modules.pool, logger: this.deps.logger, follower }
    // Local senders outrunning sealing wait for blocks in the pool's admission (see `Admission`):
    // while this engine seals on demand or on an interval, it drains the pool.
    modules.pool.admission.setDrainer({
      draining: () => this.running && (this.automine || this.intervalSeconds > 0),
      check: () => this.admissionCheck(),
    })
  }

  /** The chain, the pool and its follower (once attached), and the logger. */
  private get modules(): { chain: EngineChain; pool: TxPool; logger: Logger; follower: ChainFollower } {
    if (!this.attached) {
      throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'the engine was not attached to a chain and a pool', {
        hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
      })
    }
    return this.attached
  }

  // The chain-side hooks are the dev rules (./dev-rules.ts); this class adds block production.
  readonly validateHeader = devChainRules.validateHeader
  readonly preferHead = devChainRules.preferHead
  // Rule finality: every block is safe and final at once (unless `instantFinality: false`).
  readonly safeNumber: ((head: BlockHeader) => bigint) | undefined
  readonly finalizedNumber: ((head: BlockHeader) => bigint) | undefined

  async start(): Promise<void> {
    this.running = true
    // A fork: its first block's state as the node set it up (the dev accounts funded), for reset.
    const chain = this.attached?.chain
    if (chain?.fork !== undefined) this.forkBase = chain.postStateRoot(chain.genesisBlock.header)
    this.applyMiningMode()
  }

  /** Starts the interval timer and the automine subscription the mode asks for, stopping the others. */
  private applyMiningMode(): void {
    const { pool, logger } = this.modules
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (!this.running) return
    if (this.intervalSeconds > 0) {
      this.timer = setInterval(() => {
        // While blocks cannot be written the retry timer seals; the interval waits.
        if (!this.storage.failing) void this.seal().catch((err) => this.sealFailed(err))
      }, this.intervalSeconds * 1000)
      logger.info({ blockTime: this.intervalSeconds }, 'dev engine sealing on an interval')
    }
    if (this.automine) {
      this.unsubscribe = pool.events.on('added', () => this.instant.arrived())
      logger.info('dev engine sealing when transactions arrive')
      if (pool.size > 0) this.instant.schedule()
    } else {
      // Nobody waits for a block that automine no longer seals: their hashes are answered.
      this.waiters.settle()
    }
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearInterval(this.timer)
    this.storage.stop()
    this.unsubscribe?.()
    // Held senders go on (nothing drains the pool any more).
    this.attached?.pool.admission.release()
    this.waiters.settle()
    await this.sealing.catch(() => {})
    await this.attached?.follower.settled()
  }

  /**
   * What a local submission meets before it enters the pool (the pool's `Admission` calls it): an
   * error when nothing can seal it — the clock is at its last timestamp, or blocks cannot be
   * written (disk full).
   */
  private admissionCheck(): void {
    const head = this.modules.chain.head.header
    // Nothing can seal after the last timestamp: a sender would wait for a block that never comes.
    if (head.timestamp >= MAX_TIMESTAMP && (this.automine || this.intervalSeconds > 0)) throw endOfTime(head)
    this.storage.check()
  }

  /** Moves the clock of future blocks forward (evm_increaseTime). */
  increaseTime(seconds: bigint): bigint {
    return this.next.increaseTime(seconds)
  }

  /** Fixes the next block's timestamp (evm_setNextBlockTimestamp). */
  setNextBlockTimestamp(timestamp: bigint): void {
    this.next.setNextBlockTimestamp(timestamp, this.modules.chain.head.header.timestamp)
  }

  /**
   * The header fields of a block sealed on `parent` now (next-block.ts `envFor`: the clock with its
   * offset, a fixed next timestamp or an interval; the coinbase; prevRandao keccak(parent hash);
   * the gas limit is the chain's rule unless set). Sealing uses exactly this; estimates and
   * `pending` calls use it through the RPC context.
   */
  nextBlockEnv(parent: Block): BuildHeader {
    return this.next.envFor(parent)
  }

  /** Seals one block now (evm_mine). */
  mine(): Promise<BuildResult> {
    return this.seal().catch((err: unknown) => {
      this.sealFailed(err)
      throw err
    })
  }

  /**
   * Seals one block now, with whatever is pending (evm_mine, automine and the interval timer).
   */
  seal(): Promise<BuildResult> {
    return this.serialize(() => this.sealOne())
  }

  /**
   * Applies `edit` to the state after the head without sealing a block (anvil_setBalance and
   * kin), as Anvil: the block number stays, reads at the head, calls, estimates and the pool see
   * the edit at once, and the next block sealed starts from it (`chain.dev.editHead`).
   * Such a block cannot be re-executed elsewhere (the edit is not in it): dev chains only.
   */
  editState(edit: StateEdit): Promise<void> {
    return this.serialize(async () => {
      await this.modules.chain.dev.editHead(edit)
      await this.headStateChanged()
    })
  }

  /**
   * The head's state changed without a new block (an edit, a snapshot's edits restored): the
   * pool re-reads every sender (offered the same head again, it treats it as a reorg), and a
   * transaction the edit made executable (funds, a nonce) is sealed in automine mode.
   */
  private async headStateChanged(): Promise<void> {
    const { chain, pool } = this.modules
    await pool.onNewHead(chain.head, [])
    if (this.running && pool.size > 0 && this.automine) this.instant.schedule()
  }

  /** Remembers the head, its state (edits included) and the time offset under a new id (evm_snapshot). */
  snapshot(): bigint {
    const id = this.nextSnapshotId++
    const head = this.modules.chain.head
    this.snapshots.set(id, {
      hash: head.hash(),
      stateRoot: this.modules.chain.postStateRoot(head.header),
      offsetSeconds: this.next.offsetSeconds,
    })
    return id
  }

  /**
   * Makes the snapshot's head the head again, dropping the blocks above it and their transactions
   * (evm_revert). The snapshot and every later one are used up, as in Hardhat. False for an
   * unknown id.
   */
  revert(id: bigint): Promise<boolean> {
    return this.serialize(async () => {
      const snap = this.snapshots.get(id)
      if (!snap) return false
      for (const k of [...this.snapshots.keys()]) if (k >= id) this.snapshots.delete(k)
      const { chain, logger, follower } = this.modules
      const { head, removed } = await chain.dev.rewind(snap.hash)
      // The state edits made on the head after the snapshot are undone; those before it stay.
      await chain.dev.restoreHead(snap.stateRoot)
      this.next.offsetSeconds = snap.offsetSeconds
      this.next.fixedTimestamp = undefined
      // The rewind's reorg event (nothing added) gives the pool a head that is not a child of its
      // own: it re-reads every sender, so the nonces of the dropped transactions are forgotten
      // (the transactions are not re-added). Offered the head again, it reads the restored state.
      await follower.settled()
      await this.headStateChanged()
      logger.info({ snapshot: Number(id), head: Number(head.header.number), dropped: removed.length }, 'reverted')
      return true
    })
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.sealing.then(fn)
    this.sealing = run.catch(() => {})
    return run
  }

  /**
   * Resolves once nothing is scheduled or in progress: no turn waiting to run, none running, no
   * seal. What proves that no block follows (tests wait for this instead of sleeping).
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.instant.draining
      await this.sealing
      if (!this.instant.scheduled) return
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  /** A seal that failed: a block write that failed pauses sealing (storage-pause.ts); anything else is logged. */
  private sealFailed(err: unknown): void {
    this.storage.sealFailed(err)
  }

  private async sealOne(): Promise<BuildResult> {
    // Seals, edits and reverts run one at a time (serialize), so the head does not move between
    // building and committing; the importer's lock is held only for the commit.
    const built = await this.propose(this.modules.chain.head)
    await this.commit(built)
    this.storage.sealSucceeded()
    // Senders waiting for their transaction's block (automine) are answered once the pool has
    // taken in the new head (commit awaited the follower).
    this.waiters.settle(built)
    return built
  }

  /**
   * Builds a block on `parent` (on the state after it: its state edits included) from the pool's
   * price-and-nonce order, in the environment of {@link nextBlockEnv} (a fixed next timestamp is
   * used up). Transactions that fail at execution leave the pool. Not committed.
   */
  async propose(parent: ParentBlock): Promise<BuildResult> {
    const { chain, pool, logger } = this.modules
    const parentBlock = 'writes' in parent ? parent.block : parent
    const env = this.nextBlockEnv(parentBlock)
    this.next.usedUp()
    const baseFee = env.baseFeePerGas ?? parentBlock.header.calcNextBaseFee()
    const pooled = await pool.blockSource(baseFee)
    const built = await chain.build(parent, env, pooled)
    if (built.rejected.length > 0) {
      logger.warn(
        { rejected: built.rejected.map((r) => ({ hash: bytesToHex(r.tx.hash()), reason: r.reason })) },
        'transactions dropped: they failed at execution',
      )
      pool.discard(built.rejected.map((r) => r.tx))
    }
    return built
  }

  /**
   * Commits a proposal (the producer's own execution: not run again); resolves once the pool has
   * taken in the new head (from the chain's events).
   */
  async commit(proposal: ExecutedBlock): Promise<ImportResult> {
    const { chain, follower } = this.modules
    const result = await chain.committer.commit(proposal)
    const { block } = proposal
    if (result.status === 'known' && !equalsBytes(chain.head.hash(), block.hash())) {
      // The same block (same parent, time and contents) is stored on a side branch an anvil_reorg
      // left, or from before an evm_revert onto that branch: the importer takes it as known, so it
      // is made the head here.
      await chain.dev.replaceBranch(block.header.parentHash, [proposal])
      await follower.settled()
      return { status: 'head', block, removed: [] }
    }
    await follower.settled()
    return result
  }

  // ---- Anvil's and Hardhat's chain controls (anvil_*, evm_*, hardhat_* in @cairn/rpc) ----

  /** Whether blocks are sealed as transactions arrive (anvil_getAutomine). */
  getAutomine(): boolean {
    return this.automine
  }

  /** Turns sealing on arrival on or off (evm_setAutomine); on ends interval mining, as in Anvil. */
  setAutomine(on: boolean): void {
    this.automine = on
    if (on) this.intervalSeconds = 0
    this.applyMiningMode()
  }

  /**
   * Seals every `seconds` seconds, 0 for never (evm_setIntervalMining). Automine goes off either
   * way, as in Anvil (whose mining mode is one of automine, interval or none).
   */
  setIntervalMining(seconds: number): void {
    this.intervalSeconds = seconds
    this.automine = false
    this.applyMiningMode()
  }

  /** Seconds between interval blocks, 0 when off (anvil_getIntervalMining). */
  getIntervalMining(): number {
    return this.intervalSeconds
  }

  /** The beneficiary of later blocks (anvil_setCoinbase). */
  setCoinbase(address: Uint8Array): void {
    this.next.coinbase = address
  }

  /** The next block's base fee, instead of the one EIP-1559 derives (anvil_setNextBlockBaseFeePerGas). */
  setNextBlockBaseFee(fee: bigint): void {
    this.next.baseFee = fee
  }

  /** The gas limit of every later block (evm_setBlockGasLimit). */
  setBlockGasLimit(gasLimit: bigint): void {
    this.next.gasLimit = gasLimit
  }

  /** Moves the clock so that now is `timestamp` (evm_setTime); returns the offset, as Anvil. */
  setTime(timestamp: bigint): bigint {
    return this.next.setTime(timestamp)
  }

  /** Each later block `seconds` after its parent, or undefined to follow the clock again (anvil_setBlockTimestampInterval). */
  setBlockTimestampInterval(seconds: bigint | undefined): boolean {
    return this.next.setBlockTimestampInterval(seconds)
  }

  /** Drops the last `depth` blocks (anvil_rollback); their transactions are not put back. */
  rollback(depth: bigint): Promise<void> {
    const head = this.modules.chain.head.header.number
    if (depth > head) {
      throw new CairnError(
        'CONSENSUS_ROLLBACK_TOO_DEEP',
        `cannot roll back ${depth} blocks: the head is block ${head}`,
        {
          fault: 'caller',
        },
      )
    }
    return this.rewindTo(head - depth)
  }

  /**
   * Replaces the last `depth` blocks with `depth` new ones sealed on their parent now, the `i`th
   * carrying `txs[i]` (anvil_reorg). As Anvil: the old blocks' transactions are not put back in
   * the pool, and transactions that fail at execution are left out. Unlike Anvil's, the old
   * blocks stay stored as a side branch, and subscribers see a reorg (`reorg` event, removed logs).
   */
  reorg(depth: bigint, txs: TypedTransaction[][]): Promise<void> {
    return this.serialize(async () => {
      const { chain, pool, logger, follower } = this.modules
      const height = chain.head.header.number
      if (depth > height) {
        throw new CairnError(
          'CONSENSUS_REORG_TOO_DEEP',
          `Reorg depth must not exceed current chain height: current height ${height}, depth ${depth}`,
          { fault: 'caller' },
        )
      }
      const ancestor = await chain.getBlockByNumber(height - depth)
      if (!ancestor) throw new CairnError('CONSENSUS_UNKNOWN_BLOCK', `no canonical block ${height - depth}`)
      const branch: BuildResult[] = []
      let parent: ParentBlock = ancestor
      for (let i = 0; i < Number(depth); i++) {
        const list = txs[i] ?? []
        let at = 0
        const source = { peek: () => list[at], shift: () => void at++, pop: () => void at++ }
        const env = this.nextBlockEnv('writes' in parent ? parent.block : parent)
        const built = await chain.build(parent, env, source)
        if (built.rejected.length > 0) {
          logger.warn(
            { rejected: built.rejected.map((r) => ({ hash: bytesToHex(r.tx.hash()), reason: r.reason })) },
            'reorg: transactions left out: they failed at execution',
          )
        }
        branch.push(built)
        parent = built
      }
      this.next.usedUp()
      this.reorging = true
      try {
        const { removed, added } = await chain.dev.replaceBranch(ancestor.hash(), branch)
        await follower.settled()
        // The same blocks sealed again (same parent, time and contents): no chain event, but the
        // state edits made on them are gone, so the pool must read the head's state again.
        if (added.length === 0) await pool.onNewHead(chain.head, [])
        // The pool re-injected the old blocks' transactions (a reorg from the network); Anvil's drops them.
        const kept = new Set(added.flatMap((b) => b.transactions.map((t) => bytesToHex(t.hash()))))
        pool.discard(removed.flatMap((b) => b.transactions).filter((t) => !kept.has(bytesToHex(t.hash()))))
        // Snapshots of replaced blocks are used up (evm_revert answers false for them, as for an unknown id).
        for (const [id, snap] of [...this.snapshots]) {
          const number = await chain.getBlockNumber(snap.hash)
          const canonical = number === undefined ? undefined : await chain.getCanonicalHash(number)
          if (!canonical || bytesToHex(canonical) !== bytesToHex(snap.hash)) this.snapshots.delete(id)
        }
        logger.info(
          { depth: Number(depth), replaced: removed.length, head: Number(chain.head.header.number) },
          'reorganised',
        )
      } finally {
        this.reorging = false
      }
      if (this.running && this.automine && pool.size > 0) this.instant.schedule()
    })
  }

  /**
   * Back to the genesis block (anvil_reset / hardhat_reset without forking): every block, pooled
   * transaction, snapshot, time control and state edit is gone.
   */
  async reset(): Promise<void> {
    const { pool } = this.modules
    pool.discard([...(await pool.content()).pending.values(), ...(await pool.content()).queued.values()].flat())
    this.snapshots.clear()
    this.next.offsetSeconds = 0n
    this.next.timestampInterval = undefined
    this.next.baseFee = undefined
    // A fork goes back to its first block (the remote's fork block) with the state it started with.
    const first = this.modules.chain.genesisBlock.header.number
    await this.rewindTo(first, this.forkBase ?? true)
  }

  /**
   * Rewinds to canonical block `number`. The state edits made on it while it was the head stay
   * (anvil_rollback: as Anvil, whose edits changed that block's state), unless `dropEdits` (reset;
   * a root: the state to put back instead, a fork's at start).
   */
  private rewindTo(number: bigint, dropEdits: boolean | Uint8Array = false): Promise<void> {
    return this.serialize(async () => {
      const { chain, pool, logger } = this.modules
      const hash = await chain.getCanonicalHash(number)
      if (!hash) throw new CairnError('CONSENSUS_UNKNOWN_BLOCK', `no canonical block ${number}`, { fault: 'caller' })
      const { head, removed } = await chain.dev.rewind(hash)
      if (dropEdits !== false) await chain.dev.restoreHead(dropEdits === true ? undefined : dropEdits)
      this.next.fixedTimestamp = undefined
      await pool.onNewHead(head, [])
      logger.info({ head: Number(head.header.number), dropped: removed.length }, 'rewound')
    })
  }

  /**
   * Resolves once the pooled transaction `hash` is in a sealed block that is the head, in automine
   * mode (eth_sendTransaction answers then, as Anvil's and Hardhat's automine do); see
   * mined-waiters.ts for when it resolves at once or rejects.
   */
  awaitMined(hash: Uint8Array): Promise<void> {
    return this.waiters.awaitMined(hash)
  }
}
