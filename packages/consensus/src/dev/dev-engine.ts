// Over 600 lines, on purpose: sealing (instant, interval, on demand), the pace (pause until
// arrivals stop), the storage-failure pause and Anvil's time and mining controls share the
// engine's sealing state and are tuned together against the transfer bench. Admission
// backpressure lives in the pool (txpool/src/admission.ts); the engine only says it drains it.
import type { BuildHeader, BuildResult, Chain, ExecutedBlock, ImportResult, ParentBlock, StateEdit } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { type ChainFollower, followChain, type TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, hexToBytes, isCairnError, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Engine, EngineCapabilities } from '../engine.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { devChainRules } from './dev-rules.ts'
import { endOfTime, MAX_TIMESTAMP, nextTimestamp } from './next-timestamp.ts'

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
  /** How long without an arrival ends the pause between blocks under load (ms; {@link QUIET_MS}). */
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
  chain?: Chain
  pool?: TxPool
  logger: Logger
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number
}

/** Intrinsic gas of the cheapest transaction: a block with less room left is full. */
const MIN_TX_GAS = 21_000n

/**
 * How far below the next base fee a pending transaction's fee cap may be for instant sealing to
 * bring the base fee down to it with empty blocks: this many, each an eighth lower (a factor of
 * ~2.9). A flood priced out by its own full blocks is within it (loadgen's caps are 4× the base
 * fee it started at: 12 full blocks in a row pass them).
 */
const PRICED_OUT_STEPS = 8

/**
 * A paced seal (see `schedule`) starts at once after this long without an arrival: meant to be
 * longer than a sender's turnaround between two batches (reading one answer, sending the next), so
 * a flood's blocks keep their size (100,000 transfers from `loadgen.mjs`: 33–41 blocks against
 * 32–33 with the whole pause) and the block after its last batch does not wait.
 */
const QUIET_MS = 5

/** How often sealing is retried while block writes fail. */
const STORAGE_RETRY_MS = 2000

/**
 * The dev sealer, as Anvil and `geth --dev` do it: a single trusted producer with no seal. By
 * default a block is sealed the moment a transaction is ready, holding every ready transaction that
 * fits, as Anvil's automine does (a sender that waits for each answer gets one block per
 * transaction; a gap filled seals both in one block). With `automineBatch` sealing is paced under
 * load into bigger blocks (throughput, see {@link schedule}); with a block time it seals every N
 * seconds, empty blocks included. Every block is final at once.
 */
export class DevEngine implements Engine {
  readonly name = 'dev'
  readonly capabilities: EngineCapabilities = { announcesHeads: true, alwaysRuns: false }
  private timer: NodeJS.Timeout | undefined
  private scheduled = false
  private running = false
  private sealing: Promise<unknown> = Promise.resolve()
  /** The instant-mode turn in progress (see {@link drain}). */
  private draining: Promise<void> = Promise.resolve()
  /** A turn is running; {@link schedule} then only asks it to look again when it ends ({@link drainAgain}). */
  private drainRunning = false
  private drainAgain = false
  private offsetSeconds = 0n
  private nextTimestamp: bigint | undefined
  /** Set while block writes fail (a full disk); see {@link sealFailed}. */
  private storageFailing = false
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private unsubscribe: (() => void) | undefined
  /** evm_snapshot: the head, its state (with the state edits made on it so far) and the time offset. */
  private snapshots = new Map<bigint, { hash: Uint8Array; stateRoot: Uint8Array; offsetSeconds: bigint }>()
  /** The last block with transactions sealed in instant mode: when it ended (ms), its duration, whether full. */
  private lastSeal = { end: 0, ms: 0, full: false }
  private nextSnapshotId = 0n
  /** When {@link pricedOut} last said so (ms): at most once a minute, not once per empty block. */
  private pricedOutSaidAt = Number.NEGATIVE_INFINITY
  /** Transactions added to the pool (automine mode): a paced seal waits only while this moves. */
  private arrivals = 0
  /** Seals when transactions arrive (automine); set by the options, evm_setAutomine. */
  private automine: boolean
  /** Seconds between interval blocks, 0 for none; set by the options, evm_setIntervalMining. */
  private intervalSeconds: number
  private coinbase: Uint8Array
  /** anvil_setNextBlockBaseFeePerGas: the next block's base fee, used once. */
  private nextBaseFee: bigint | undefined
  /** evm_setBlockGasLimit: every later block's gas limit. */
  private gasLimit: bigint | undefined
  /** anvil_setBlockTimestampInterval: each block this many seconds after its parent. */
  private timestampInterval: bigint | undefined
  /** Set while {@link reorg} swaps branches: the pool's re-injections must not start a seal. */
  private reorging = false
  /** A fork's first block's state at start (the dev accounts funded): what {@link reset} goes back to. */
  private forkBase: Uint8Array | undefined
  /** Senders of eth_sendTransaction waiting for their transaction's block (see {@link awaitMined}). */
  private minedWaiters = new Map<string, { resolve: () => void; reject: (err: Error) => void }>()

  private attached: { chain: Chain; pool: TxPool; logger: Logger; follower: ChainFollower } | undefined
  /** The follower this engine made itself (none given to {@link attach}), stopped with it. */
  private ownFollower: ChainFollower | undefined

  constructor(
    readonly opts: DevEngineOptions,
    private readonly deps: DevEngineModules,
  ) {
    this.automine = opts.blockTime === 0
    this.intervalSeconds = opts.blockTime
    this.coinbase = opts.coinbase
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
  attach(modules: { chain: Chain; pool: TxPool; follower?: ChainFollower }): void {
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
  private get modules(): { chain: Chain; pool: TxPool; logger: Logger; follower: ChainFollower } {
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
        if (!this.storageFailing) void this.seal().catch((err) => this.sealFailed(err))
      }, this.intervalSeconds * 1000)
      logger.info({ blockTime: this.intervalSeconds }, 'dev engine sealing on an interval')
    }
    if (this.automine) {
      this.unsubscribe = pool.events.on('added', () => {
        this.arrivals++
        this.schedule()
      })
      logger.info('dev engine sealing when transactions arrive')
      if (pool.size > 0) this.schedule()
    } else {
      // Nobody waits for a block that automine no longer seals: their hashes are answered.
      this.settleWaiters()
    }
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearInterval(this.timer)
    clearTimeout(this.retryTimer)
    this.unsubscribe?.()
    // Held senders go on (nothing drains the pool any more).
    this.attached?.pool.admission.release()
    this.settleWaiters()
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
    if (this.storageFailing) {
      throw new CairnError(
        'CONSENSUS_STORAGE_UNWRITABLE',
        'transaction not accepted: the node cannot write blocks now (disk full?)',
        { fault: 'transient', hint: 'retry once the operator has freed disk space; the node resumes by itself' },
      )
    }
  }

  /** Moves the clock of future blocks forward (evm_increaseTime). */
  increaseTime(seconds: bigint): bigint {
    const clock = BigInt(Math.floor(this.deps.now?.() ?? Date.now() / 1000))
    const latest = clock + this.offsetSeconds + seconds
    if (latest > MAX_TIMESTAMP) {
      throw new CairnError(
        'CONSENSUS_TIMESTAMP_TOO_HIGH',
        `moving the clock ${seconds} s forward puts block timestamps past 2^64-1 (a header's limit)`,
        { fault: 'caller', hint: `move it at most ${MAX_TIMESTAMP - clock - this.offsetSeconds} s` },
      )
    }
    this.offsetSeconds += seconds
    return this.offsetSeconds
  }

  /** Fixes the next block's timestamp (evm_setNextBlockTimestamp). */
  setNextBlockTimestamp(timestamp: bigint): void {
    const parent = this.modules.chain.head.header.timestamp
    if (timestamp <= parent) {
      throw new CairnError('CONSENSUS_TIMESTAMP_TOO_LOW', `timestamp ${timestamp} is not after the head's ${parent}`, {
        fault: 'caller',
      })
    }
    if (timestamp > MAX_TIMESTAMP) {
      throw new CairnError(
        'CONSENSUS_TIMESTAMP_TOO_HIGH',
        `timestamp ${timestamp} does not fit a header (at most 2^64-1)`,
        {
          fault: 'caller',
        },
      )
    }
    this.nextTimestamp = timestamp
  }

  /**
   * The header fields of a block sealed on `parent` now: the timestamp `max(now + offset, parent + 1)`
   * (or the one fixed by {@link setNextBlockTimestamp}, left set; at most 2^64-1, refused after a
   * parent at 2^64-1: {@link nextTimestamp}), the engine's coinbase, prevRandao
   * keccak(parent hash); the gas limit is the chain's rule (the parent's). Sealing uses exactly this; estimates and `pending`
   * calls use it through the RPC context.
   */
  nextBlockEnv(parent: Block): BuildHeader {
    const now = BigInt(Math.floor(this.deps.now?.() ?? Date.now() / 1000)) + this.offsetSeconds
    const timestamp = nextTimestamp(
      parent.header,
      this.nextTimestamp ??
        (this.timestampInterval !== undefined ? parent.header.timestamp + this.timestampInterval : now),
    )
    return {
      timestamp,
      coinbase: this.coinbase,
      mixHash: keccak256(parent.hash()),
      ...(this.gasLimit !== undefined ? { gasLimit: this.gasLimit } : {}),
      ...(this.nextBaseFee !== undefined ? { baseFeePerGas: this.nextBaseFee } : {}),
    }
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
    if (this.running && pool.size > 0 && this.automine) this.schedule()
  }

  /** Remembers the head, its state (edits included) and the time offset under a new id (evm_snapshot). */
  snapshot(): bigint {
    const id = this.nextSnapshotId++
    const head = this.modules.chain.head
    this.snapshots.set(id, {
      hash: head.hash(),
      stateRoot: this.modules.chain.postStateRoot(head.header),
      offsetSeconds: this.offsetSeconds,
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
      this.offsetSeconds = snap.offsetSeconds
      this.nextTimestamp = undefined
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
   * Seals soon. Under load, after a block that was not full, admission gets as long as that block
   * took before the next one starts: transactions arriving meanwhile go into one bigger block
   * (fewer per-block costs: system calls, the trie's upper nodes, the head update) instead of
   * many small ones, and sealing takes at most about half of the thread. A quiet node seals at once.
   */
  private schedule(): void {
    if (this.scheduled || !this.running || this.reorging) return
    // One turn at a time: a second one beside it sees the transactions the first is sealing as
    // still pending and seals after it, finding them gone: an empty block.
    if (this.drainRunning) {
      this.drainAgain = true
      return
    }
    this.scheduled = true
    const run = () => {
      this.scheduled = false
      this.draining = this.drain()
    }
    const wait = this.lastSeal.full ? 0 : this.lastSeal.end + this.lastSeal.ms - performance.now()
    if (wait > 1) this.pace(run, Math.min(wait, 1000))
    else setImmediate(run)
  }

  /**
   * Runs `run` after `wait` ms, or as soon as arrivals stop: no transaction added to the pool or
   * being admitted for `quietMs` ({@link QUIET_MS}). The pause is there to give admission the
   * thread; with nothing arriving it only kept a burst's last transactions waiting (up to the last
   * seal's length: 0.36–0.42 s at the end of a 20,000-transfer burst, ~0.4 s after 2,000).
   */
  private pace(run: () => void, wait: number): void {
    const quiet = this.opts.quietMs ?? QUIET_MS
    const end = performance.now() + wait
    let seen = this.arrivals
    const check = () => {
      const left = end - performance.now()
      if (left <= 1 || (this.arrivals === seen && this.modules.pool.admission.inFlight === 0)) return run()
      seen = this.arrivals
      setTimeout(check, Math.min(quiet, left))
    }
    setTimeout(check, Math.min(quiet, wait))
  }

  /**
   * Resolves once nothing is scheduled or in progress: no turn waiting to run, none running, no
   * seal. What proves that no block follows (tests wait for this instead of sleeping).
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.draining
      await this.sealing
      if (!this.scheduled) return
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  /** Seals blocks while executable transactions remain (instant mode). */
  private async drain(): Promise<void> {
    const { chain, pool } = this.modules
    const max = this.opts.maxBlocksPerTurn ?? 8
    this.drainRunning = true
    this.drainAgain = false
    try {
      for (let i = 0; i < max && this.running; i++) {
        const baseFee = this.nextBaseFee ?? chain.head.header.calcNextBaseFee()
        if (!pool.hasExecutable(baseFee)) {
          if (this.pricedOut(baseFee)) {
            await this.seal()
            this.drainAgain = true // at the lower base fee (a seal that failed does not loop)
          }
          return
        }
        // Back to back only while blocks fill up; else paced (see schedule).
        if (i > 0 && !this.lastSeal.full) break
        const started = performance.now()
        const paced = this.opts.automineBatch === true
        const { block } = await this.seal()
        if (block.transactions.length === 0) return
        const end = performance.now()
        const h = block.header
        // Unpaced (Anvil's automine): the next arrival seals at once, as if the block were full.
        this.lastSeal = { end, ms: end - started, full: !paced || h.gasUsed + MIN_TX_GAS > h.gasLimit }
      }
      if (this.running && pool.size > 0) this.drainAgain = true
    } catch (err) {
      this.sealFailed(err)
    } finally {
      this.drainRunning = false
      // Transactions that arrived during the turn, or left after it: the next turn (paced).
      if (this.drainAgain) {
        this.drainAgain = false
        this.schedule()
      }
    }
  }

  /**
   * Whether pending transactions wait only for the base fee to fall (a flood of full blocks raised
   * it past their fee caps, by at most {@link PRICED_OUT_STEPS} blocks' worth). Nothing seals
   * on arrival then, and without a block the base fee never falls: the chain would stall with its
   * pool full. An empty block lowers it by an eighth, as every block of an interval-sealing chain
   * (Anvil's `--block-time`, geth's `--dev.period`) would; the drain then looks again. Not when
   * the next base fee is fixed (anvil_setNextBlockBaseFeePerGas). Caps further below wait for a
   * block something else brings. Logged at most once a minute (a flood of 100,000 transfers from
   * loadgen.mjs had 44 of its 121 blocks empty: full and empty blocks alternate once caps bind).
   */
  private pricedOut(baseFee: bigint): boolean {
    if (this.nextBaseFee !== undefined) return false
    let reachable = baseFee
    for (let i = 0; i < PRICED_OUT_STEPS; i++) reachable -= reachable / 8n
    if (!this.modules.pool.hasExecutable(reachable)) return false
    if (performance.now() - this.pricedOutSaidAt >= 60_000) {
      this.pricedOutSaidAt = performance.now()
      this.modules.logger.info(
        { baseFee: baseFee.toString() },
        'pending transactions priced out by the base fee: sealing empty blocks to lower it',
      )
    }
    return true
  }

  /**
   * A seal that failed. A block write that failed (a full disk: DB_WRITE_FAILED) pauses sealing:
   * logged once, retried every {@link STORAGE_RETRY_MS} (the store reopens itself on the next
   * write), new transactions refused meanwhile (the pool's admission asks {@link admissionCheck}); anything else is logged.
   */
  private sealFailed(err: unknown): void {
    const { logger } = this.modules
    if (!isCairnError(err, 'DB_WRITE_FAILED')) {
      logger.error({ err }, 'sealing failed')
      return
    }
    if (!this.storageFailing) {
      this.storageFailing = true
      logger.error(
        { err: err.message, retryMs: STORAGE_RETRY_MS },
        'cannot write blocks (disk full?): sealing paused and new transactions refused until a write succeeds',
      )
    }
    if (this.retryTimer || !this.running) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (!this.running) return
      void this.seal().catch((e) => this.sealFailed(e))
    }, STORAGE_RETRY_MS)
    this.retryTimer.unref?.()
  }

  /** A block was written: if writes had been failing, say they work again. */
  private sealSucceeded(): void {
    if (!this.storageFailing) return
    this.storageFailing = false
    this.modules.logger.info('blocks are written again: sealing resumed, transactions accepted')
    if (this.automine && this.modules.pool.size > 0) this.schedule()
  }

  private async sealOne(): Promise<BuildResult> {
    // Seals, edits and reverts run one at a time (serialize), so the head does not move between
    // building and committing; the importer's lock is held only for the commit.
    const built = await this.propose(this.modules.chain.head)
    await this.commit(built)
    this.sealSucceeded()
    // Senders waiting for their transaction's block (automine) are answered once the pool has
    // taken in the new head (commit awaited the follower).
    this.settleWaiters(built)
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
    this.nextTimestamp = undefined
    this.nextBaseFee = undefined
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
    this.coinbase = address
  }

  /** The next block's base fee, instead of the one EIP-1559 derives (anvil_setNextBlockBaseFeePerGas). */
  setNextBlockBaseFee(fee: bigint): void {
    this.nextBaseFee = fee
  }

  /** The gas limit of every later block (evm_setBlockGasLimit). */
  setBlockGasLimit(gasLimit: bigint): void {
    this.gasLimit = gasLimit
  }

  /** Moves the clock so that now is `timestamp` (evm_setTime); returns the offset, as Anvil. */
  setTime(timestamp: bigint): bigint {
    const clock = BigInt(Math.floor(this.deps.now?.() ?? Date.now() / 1000))
    if (timestamp > MAX_TIMESTAMP) {
      throw new CairnError('CONSENSUS_TIMESTAMP_TOO_HIGH', `timestamp ${timestamp} does not fit a header`, {
        fault: 'caller',
      })
    }
    this.offsetSeconds = timestamp - clock
    this.nextTimestamp = undefined
    return this.offsetSeconds
  }

  /** Each later block `seconds` after its parent, or undefined to follow the clock again (anvil_setBlockTimestampInterval). */
  setBlockTimestampInterval(seconds: bigint | undefined): boolean {
    const had = this.timestampInterval !== undefined
    this.timestampInterval = seconds
    return had
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
      this.nextTimestamp = undefined
      this.nextBaseFee = undefined
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
      if (this.running && this.automine && pool.size > 0) this.schedule()
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
    this.offsetSeconds = 0n
    this.timestampInterval = undefined
    this.nextBaseFee = undefined
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
      this.nextTimestamp = undefined
      await pool.onNewHead(head, [])
      logger.info({ head: Number(head.header.number), dropped: removed.length }, 'rewound')
    })
  }

  /**
   * Resolves once the pooled transaction `hash` is in a sealed block that is the head, in automine
   * mode (eth_sendTransaction answers then, as Anvil's and Hardhat's automine do, so a read right
   * after sees it); rejects with the reason when the block builder dropped it (it failed at
   * execution) or it left the pool unsealed. Resolves at once without automine, when it waits for
   * an earlier nonce (queued), when its fee cap is below the next base fee (it waits in the pool,
   * as on Anvil), or when it is not pooled.
   */
  awaitMined(hash: Uint8Array): Promise<void> {
    const { pool } = this.modules
    const tx = pool.get(hash)
    if (!this.running || !this.automine || !tx) return Promise.resolve()
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
      this.minedWaiters.set(key, { resolve, reject })
    })
  }

  /** The refusal of a transaction whose gas limit exceeds the next block's (evm_setBlockGasLimit lowered it). */
  private tooBig(tx: { gasLimit: bigint }): CairnError | undefined {
    const limit = this.gasLimit ?? this.modules.chain.head.header.gasLimit
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
    return cap >= (this.nextBaseFee ?? this.modules.chain.head.header.calcNextBaseFee())
  }

  /**
   * After a seal (`built`): wakes the waiters whose transaction it holds, fails those it rejected
   * and those no longer pooled (replaced, evicted, dropped). Without `built` (automine off,
   * stopping): wakes every waiter.
   */
  private settleWaiters(built?: BuildResult): void {
    if (this.minedWaiters.size === 0) return
    if (!built || !this.running || !this.automine) {
      for (const w of this.minedWaiters.values()) w.resolve()
      this.minedWaiters.clear()
      return
    }
    for (const tx of built.block.transactions) {
      const key = bytesToHex(tx.hash())
      this.minedWaiters.get(key)?.resolve()
      this.minedWaiters.delete(key)
    }
    for (const { tx, reason } of built.rejected) {
      const key = bytesToHex(tx.hash())
      this.minedWaiters.get(key)?.reject(
        new CairnError('CONSENSUS_TX_DROPPED', `transaction ${key} failed at execution and was dropped: ${reason}`, {
          fault: 'caller',
        }),
      )
      this.minedWaiters.delete(key)
    }
    for (const [key, w] of this.minedWaiters) {
      const pooled = this.modules.pool.get(hexToBytes(key as `0x${string}`))
      if (pooled && !this.affordable(pooled)) {
        // The base fee rose past its fee cap: it waits in the pool, its sender no longer does.
        w.resolve()
        this.minedWaiters.delete(key)
        continue
      }
      const tooBig = pooled && this.tooBig(pooled)
      if (pooled && tooBig) {
        this.modules.pool.discard([pooled])
        w.reject(tooBig)
        this.minedWaiters.delete(key)
        continue
      }
      if (pooled) continue
      w.reject(
        new CairnError('CONSENSUS_TX_DROPPED', `transaction ${key} left the pool before it was sealed`, {
          fault: 'caller',
          hint: 'it was replaced, evicted or dropped (anvil_dropTransaction, a revert)',
        }),
      )
      this.minedWaiters.delete(key)
    }
  }
}
