// Over 600 lines, on purpose: the driver's step queue and the Engine seam it serves read one
// machine and one height's state; its parts (reactor, WAL replay, block executor, round clock,
// validator and evidence records, the block hooks of staking and governance) live in files of
// their own, as CometBFT splits them.
/**
 * The BFT engine: the driver around one {@link BftStateMachine} in a node (the simulator's
 * `SimNode` is its model). It feeds the machine — messages from the consensus topic, timeouts from
 * the injected scheduler, the validity of a proposal (executed once into an `ExecutedBlock`) — and
 * carries out what the machine decides:
 *
 * - `broadcastProposal` / `broadcastVote`: signed through the {@link ConsensusSigner} (in process,
 *   or a remote signer; its protection records the signature durably first, and refuses a
 *   conflicting one), logged, published, and handed back to the machine. A signature refused, or
 *   one the signer cannot give (unreachable, timed out), is not sent: the step goes unvoted;
 * - `scheduleTimeout`: a timer on the scheduler (with empty blocks off, the wait after a commit
 *   lasts until the pool holds a transaction);
 * - `buildBlock`: a block on the last committed one, from the pool, its header's extra data the
 *   round and the parent's commit certificate (`extra-data.ts`);
 * - `validateBlock`: the chain's verifier (`chain.verifier`), the executed block kept by hash;
 * - `commit`: the kept executed block is committed without re-execution (`chain.committer`), then
 *   `chain.setFinalized(hash, certificate)`: finalized = safe = the last committed block.
 *
 * Everything runs on one queue, in order: an event's actions are carried out (and the events they
 * give back handled) before the next event. The parts around the driver, each behind a narrow
 * interface: `reactor.ts` (the consensus topic, catch-up and gossip), `wal-replay.ts` (the WAL of
 * the events and its replay at start), `height-blocks.ts` (decoding, verifying and keeping the
 * height's executed blocks), `round-clock.ts` (timeouts, the height's and round's clock, metrics),
 * `validator-records.ts` and `evidence-records.ts` (the engine's records in the chain's engine data),
 * `block-hooks.ts` (endBlock's validator-set updates, beginBlock's governed header).
 */
import type {
  BlockHookContext,
  BuildHeader,
  BuildResult,
  ChainEngine,
  EndBlockContext,
  EndBlockResult,
  EngineChain,
  ExecutedBlock,
  HeaderContext,
  ImportResult,
  ParentBlock,
} from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { type ChainFollower, followChain, type TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Engine, EngineCapabilities } from '../engine.ts'
import { ConsensusErrorCode } from '../errors.ts'
import type { SignerState } from '../privval/signer-state.ts'
import { type ConsensusSigner, ValidatorSigner } from '../privval/validator-signer.ts'
import type { StakingHooks } from '../staking/hooks.ts'
import type { BftConfig } from './bft-config.ts'
import type { BftMetrics } from './bft-metrics.ts'
import { bftChainRules } from './bft-rules.ts'
import { BftBlockHooks, type ValidatorUpdateSource } from './block-hooks.ts'
import { type CommitCertificate, decodeCertificate, encodeCertificate } from './certificate.ts'
import type { BftAction, BftEvent } from './events.ts'
import { EvidencePool } from './evidence.ts'
import { EvidenceRecords } from './evidence-records.ts'
import { decodeBftExtra, encodeBftExtra } from './extra-data.ts'
import { HeightBlocks } from './height-blocks.ts'
import { LastCommit } from './last-commit.ts'
import type { Address } from './messages.ts'
import { OwnMessages } from './own-messages.ts'
import { createSchemeVerifier } from './pq/scheme-verifier.ts'
import { type BftTransport, ConsensusReactor } from './reactor.ts'
import { type BftScheduler, RoundClock, realScheduler } from './round-clock.ts'
import { memoizedVerifier, type SignatureVerifier } from './signing.ts'
import { BftStateMachine, type BftStateSnapshot } from './state-machine.ts'
import { UpgradeHalt } from './upgrade-halt.ts'
import { ValidatorRecords } from './validator-records.ts'
import { type ValidatorChange, ValidatorSchedule } from './validator-schedule.ts'
import type { ValidatorSet } from './validator-set.ts'
import type { ConsensusWal } from './wal.ts'
import { EngineWal } from './wal-replay.ts'

export type { ValidatorUpdateSource } from './block-hooks.ts'
export { PENDING_EVIDENCE_KEY } from './evidence-records.ts'
export type { BftTransport } from './reactor.ts'
export type { BftScheduler } from './round-clock.ts'

export interface BftEngineOptions {
  chainId: bigint
  config: BftConfig
  /** The validator key; absent: a follower (verifies and follows commits, never votes). */
  privateKey?: Uint8Array
  /**
   * The consensus key it rotates to (`Staking.rotateConsensusKey`): per height the engine signs
   * with the key in that height's set (validator-signer.ts).
   */
  nextPrivateKeys?: readonly Uint8Array[]
  /** How often a stalled node re-publishes its messages (ms). Default: half the propose timeout, at least 200. */
  gossipMs?: number
  /** How far in the future a proposal's timestamp may be, beyond its parent's + 1 (s). Default 15. */
  maxFutureSeconds?: number
  /**
   * The chain's first BFT block (default 1). Above 1 on a chain that ran proof of work before (the
   * PoW → PoS transition, consensus/src/transition): that block carries no certificate and the
   * engine starts on the canonical block below it, the terminal proof-of-work block.
   */
  firstHeight?: number
}

export interface BftEngineModules {
  logger: Logger
  /** Required with a private key: the double-sign protection (`FileSignerState` in a node). */
  signerState?: SignerState
  /**
   * The validator's signer when its key is not in this process (a remote signer); replaces
   * `privateKey` and `signerState`. Absent, and no private key: a follower.
   */
  signer?: ConsensusSigner
  scheduler?: BftScheduler
  /** Given here or later with {@link BftEngine.connect}. */
  transport?: BftTransport
  /** Height, round, step, commits, rounds per height, missed signatures, evidence (`createBftMetrics`). */
  metrics?: BftMetrics | null
  /**
   * The consensus WAL (`ConsensusWal.open` in a node): every event is logged before the machine
   * handles it, own signed messages with fsync before they leave; a restart replays the height.
   */
  wal?: ConsensusWal
  /** Validator-set changes from `endBlock` (see {@link ValidatorUpdateSource}); absent: the genesis set forever. */
  validatorUpdates?: ValidatorUpdateSource
  /**
   * Proof of stake (`config.cairn.bft.staking`): rewards, slashing and the validator set from the
   * staking system contract, in every block's `endBlock` (replaces `validatorUpdates`).
   */
  staking?: StakingHooks
  /**
   * With `firstHeight` above 1 (a chain that ran proof of work before): whether a proposal of the
   * first height may build on `candidate`, another terminal block than this node's own `own` (two
   * blocks mined at H − 1, validators holding different ones). The earlier era's fork choice: not
   * when `own` has more work. Absent: only on this node's own terminal block.
   */
  terminalAccepts?: (candidate: BlockHeader, own: BlockHeader) => Promise<boolean>
}

export class BftEngine implements Engine {
  readonly name = 'bft'
  readonly capabilities: EngineCapabilities = {
    announcesHeads: false,
    alwaysRuns: true,
    consensusTopic: this,
    validatorSets: this,
  }
  readonly validators: ValidatorSchedule
  /** Duplicate-vote evidence: the machine's, peers' (gossiped) and blocks'; pending goes into the next proposal. */
  readonly evidence: EvidencePool
  readonly #opts: BftEngineOptions
  readonly #m: BftEngineModules
  readonly #rules: ChainEngine
  readonly #signer: ConsensusSigner | null
  readonly #scheduler: BftScheduler
  readonly #verifier: SignatureVerifier
  readonly #records: ValidatorRecords
  readonly #hooks: BftBlockHooks
  readonly #evidenceRecords: EvidenceRecords
  readonly #wal: EngineWal
  readonly #blocks: HeightBlocks
  readonly #reactor: ConsensusReactor
  readonly #clock: RoundClock
  /** Staking: the stop before a scheduled upgrade this build does not know (upgrade-halt.ts). */
  readonly #upgradeHalt: UpgradeHalt | null
  #attached: { chain: EngineChain; pool: TxPool; follower: ChainFollower } | undefined
  /** The schedule's restore from the chain, under way or done (see #scheduleReady). */
  #scheduleRestored: Promise<void> | undefined
  #ownFollower: ChainFollower | undefined
  #machine: BftStateMachine | null = null
  #running = false
  /** Bumped by stop(): timers of an earlier run do nothing. */
  #epoch = 0
  #queue: Promise<void> = Promise.resolve()
  /** Steps queued or running. */
  #pending = 0
  #lastCommitted!: Block
  /** The certificate of the last commit, late precommits joining it (`last-commit.ts`). */
  readonly #lastCommit: LastCommit
  /** Votes and proposals this validator signs and sends (`own-messages.ts`). */
  readonly #own: OwnMessages
  #committing: Uint8Array | undefined
  /** The wait after the last commit: governance's block time after that block (staking), else the config's. */
  #blockTimeMs: number | undefined
  #unsubscribe: (() => void) | undefined

  constructor(opts: BftEngineOptions, modules: BftEngineModules) {
    this.#opts = opts
    this.#m = modules
    this.#scheduler = modules.scheduler ?? realScheduler
    this.#upgradeHalt = modules.staking
      ? new UpgradeHalt({
          logger: modules.logger,
          staking: modules.staking,
          scheduler: this.#scheduler,
          chain: () => this.#chain,
          waitMs: () => this.#blockTimeMs ?? opts.config.timeouts.commitMs,
        })
      : null
    const scheme = opts.config.signatureScheme ?? 'secp256k1'
    this.validators = new ValidatorSchedule(opts.config.validators, opts.config.validatorChanges, scheme)
    const setAt = (h: number) => this.validators.at(h)
    // Signers are recovered (under hybrid: and their ML-DSA parts checked) once per message
    // object: at the edge (to refuse what no validator signed) and again by the machine.
    this.#verifier = memoizedVerifier(createSchemeVerifier(opts.chainId, scheme, setAt))
    this.evidence = new EvidencePool({ chainId: opts.chainId, scheme }, { validatorSetAt: setAt })
    const attachedChain = () => this.#attached?.chain
    this.#records = new ValidatorRecords(
      {},
      { validators: this.validators, chain: attachedChain, logger: modules.logger },
    )
    this.#hooks = new BftBlockHooks(
      { chainId: opts.chainId, commitMs: opts.config.timeouts.commitMs },
      {
        logger: modules.logger,
        staking: modules.staking,
        validatorUpdates: modules.validatorUpdates,
        validators: this.validators,
        records: this.#records,
        chain: () => this.#chain,
      },
    )
    this.#evidenceRecords = new EvidenceRecords(
      { chainId: opts.chainId },
      { pool: this.evidence, chain: attachedChain, logger: modules.logger },
    )
    this.#rules = bftChainRules({
      chainId: opts.chainId,
      validators: this.validators,
      ...(opts.firstHeight !== undefined ? { firstHeight: opts.firstHeight } : {}),
      committing: () => this.#committing,
      evidence: this.evidence,
      parentValidatorChanges: (parent, ctx) => this.#records.updatesOf(parent, ctx.chain),
      reexecuteParent: (parent) => this.#reexecute(parent),
      onScheduleChange: () => this.#records.saveSchedule(),
      ready: () => this.#scheduleReady(),
    })
    if (modules.signer !== undefined) {
      this.#signer = modules.signer
      this.#signer.followValidatorSets?.((h) => this.validators.at(h))
    } else if (opts.privateKey !== undefined) {
      if (modules.signerState === undefined) {
        throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'a BFT validator needs a signer state', {
          hint: 'pass modules.signerState (FileSignerState in a node)',
        })
      }
      this.#signer = new ValidatorSigner(
        {
          chainId: opts.chainId,
          privateKey: opts.privateKey,
          ...(opts.nextPrivateKeys?.length ? { nextPrivateKeys: opts.nextPrivateKeys } : {}),
        },
        { state: modules.signerState, validatorSetAt: (h) => this.validators.at(h) },
      )
    } else {
      this.#signer = null
    }
    this.#wal = new EngineWal(
      { self: this.#signer?.addresses ?? this.address },
      { wal: modules.wal, verifier: this.#verifier },
    )
    this.#blocks = new HeightBlocks(opts, {
      logger: modules.logger,
      scheduler: this.#scheduler,
      chain: () => this.#chain,
      pool: () => this.#attached?.pool,
    })
    this.#clock = new RoundClock(opts, {
      scheduler: this.#scheduler,
      metrics: modules.metrics,
      poolEmpty: () => this.#attached?.pool.counts.pending === 0,
      validatorSetAt: (h) => this.validators.at(h),
      gatherFor: (h) => this.#lastCommit.gatherFor(h),
    })
    this.#reactor = new ConsensusReactor(opts, {
      logger: modules.logger,
      metrics: modules.metrics,
      scheduler: this.#scheduler,
      transport: modules.transport,
      verifier: this.#verifier,
      validators: this.validators,
      evidence: this.evidence,
      evidenceRecords: this.#evidenceRecords,
      chain: () => this.#chain,
      driver: {
        machine: () => this.#machine,
        queued: () => this.#pending,
        enqueue: (step) => this.#enqueue(step),
        handle: (event) => this.#handle(event),
        deliver: (machine, event) => this.#run(this.#feed(machine, event)),
        lastCommittedHeight: () => Number(this.#lastCommitted.header.number),
        roundStartedAt: (height, round) => this.#clock.roundStartedAt(height, round),
        latePrecommit: (vote, signer) => this.#lastCommit.add(vote, signer),
      },
    })
    this.#lastCommit = new LastCommit({
      validators: this.validators,
      committedHeight: () => Number(this.#lastCommitted?.header.number ?? -1),
      addressAt: (h) => this.addressAt(h),
      blockTimeMs: () => this.#blockTimeMs ?? opts.config.timeouts.commitMs,
    })
    this.#own = new OwnMessages({
      signer: this.#signer,
      scheme: this.validators.scheme,
      wal: this.#wal,
      reactor: this.#reactor,
      logger: modules.logger,
      metrics: modules.metrics,
      // Its own precommit of a height it decided before precommitting (the machine's commit came
      // first: state-machine.ts `#decide`) joins its own certificate too, as a peer's late one does.
      ownPrecommit: (vote, height) => {
        const self = this.addressAt(height)
        if (self !== null) this.#lastCommit.add(vote, self)
      },
    })
  }

  // ---- the chain's rules ----

  validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    return this.#rules.validateHeader(header, parent, ctx)
  }

  preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    return this.#rules.preferHead(candidate, current)
  }

  /** The parent's commit certificate a checked header carries: the importer stores it for the parent. */
  parentFinality(header: BlockHeader): Uint8Array | undefined {
    return this.#rules.parentFinality?.(header)
  }

  /** The block's validator-set updates, in effect at its height + 2 (block-hooks.ts). */
  endBlock(ctx: EndBlockContext): Promise<EndBlockResult | undefined> {
    return this.#hooks.endBlock(ctx)
  }

  /** The header checked against governance's chain parameters (staking; block-hooks.ts). */
  beginBlock(ctx: BlockHookContext): Promise<void> {
    return this.#hooks.beginBlock(ctx)
  }

  /** Governance may set a minimum base fee (staking): the chain's header checks leave it to {@link beginBlock}. */
  get baseFeeFloor(): boolean {
    return this.#hooks.baseFeeFloor
  }

  // ---- the Engine seam ----

  /** This validator's address, or null for a follower. */
  get address(): Address | null {
    return this.#signer?.address ?? null
  }

  /** The address it signs with at `height` (a rotating key: the one in that height's set), or null. */
  addressAt(height: number): Address | null {
    const signer = this.#signer
    if (signer === null) return null
    return signer.addressAt ? signer.addressAt(height) : signer.address
  }

  /** Where the machine is (height, round, step, lock), or null before start. */
  snapshot(): BftStateSnapshot | null {
    return this.#machine?.snapshot() ?? null
  }

  /** The validator set of `height` (≥ 1). */
  validatorsAt(height: number): ValidatorSet {
    return this.validators.at(height)
  }

  attach(modules: { chain: EngineChain; pool: TxPool; follower?: ChainFollower }): void {
    this.#ownFollower?.stop()
    this.#ownFollower = modules.follower ? undefined : followChain(modules.pool, modules.chain.events, this.#m)
    const follower = modules.follower ?? (this.#ownFollower as ChainFollower)
    this.#attached = { chain: modules.chain, pool: modules.pool, follower }
  }

  /** The consensus topic (p2p starts after the engine is built). */
  connect(transport: BftTransport): void {
    this.#reactor.connect(transport, this.#running)
  }

  get #chain(): EngineChain {
    if (!this.#attached) {
      throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'the engine was not attached to a chain and a pool', {
        hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
      })
    }
    return this.#attached.chain
  }

  async start(): Promise<void> {
    if (this.#running) return
    const chain = this.#chain
    this.#running = true
    const epoch = ++this.#epoch
    // The machine decides the height after the last final block (a validator finalizes every commit).
    const finalized = await this.#lastFinal(chain)
    this.#lastCommitted = finalized
    this.#lastCommit.restore(await this.#storedCertificate(finalized))
    const height = Number(finalized.header.number) + 1
    // Stopped at an upgrade this build does not know (restarted unchanged): it stops again.
    await this.#upgradeHalt?.after(finalized.header)
    if (chain.head.header.number > finalized.header.number) await this.#upgradeHalt?.after(chain.head.header)
    await this.#scheduleReady()
    await this.#records.prune(chain, height - 1)
    await this.#evidenceRecords.restore(chain, height)
    this.#machine = this.#newMachine(height)
    // A block imported from a peer proves its parent final: follow finality from the chain alone.
    const onHead = ({ block }: { block: Block }) =>
      this.#enqueue(async () => {
        await this.#hooks.warmChainParams(block.header)
        await this.#upgradeHalt?.after(block.header)
        if (this.#records.recordHeader(block.header)) await this.#records.saveSchedule()
        await this.#evidenceRecords.imported(block.header)
        await this.#finalizeParentOf(block)
      })
    chain.events.on('newHead', onHead)
    this.#unsubscribe = () => chain.events.off('newHead', onHead)
    this.#reactor.listen()
    const machine = this.#machine
    this.#enqueue(async () => {
      const replayed = await this.#wal.replay(height, machine, {
        run: (actions) => this.#run(actions),
        own: (msg) => this.#reactor.keepOwn(msg),
      })
      if (replayed > 0) {
        this.#m.logger.info({ height, events: replayed }, 'consensus WAL replayed')
        this.#reactor.republishOwn()
      }
    })
    this.#reactor.startGossip(() => epoch === this.#epoch)
    this.#m.logger.info(
      {
        height,
        validator: this.address ? bytesToHex(this.address) : null,
        validators: this.validators.at(height).size,
      },
      'bft engine started',
    )
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#epoch++
    this.#scheduleRestored = undefined
    this.#reactor.unlisten()
    this.#unsubscribe?.()
    await this.#queue
    await this.#records
      .saveSchedule()
      .catch((err: unknown) => this.#m.logger.warn({ err }, 'cannot save the validator schedule'))
    this.#wal.close()
    this.#machine = null
    this.#blocks.clear()
    this.#ownFollower?.stop()
  }

  /**
   * The header fields of a block built on `parent` now (estimates, `pending`, `eth_gasPrice` and
   * `eth_feeHistory` use them too). With staking, governance's gas limit and base fee floor once its
   * parameters after `parent` are read: every new head has them read as it arrives, so the head's
   * are there for the RPC (an older parent without them gets EIP-1559's, the estimate it was).
   */
  nextBlockEnv(parent: Block): BuildHeader {
    const now = BigInt(Math.floor(this.#scheduler.now() / 1000))
    const timestamp = now > parent.header.timestamp ? now : parent.header.timestamp + 1n
    const governed = this.#hooks.cachedGovernedOn(parent)
    return {
      timestamp,
      coinbase: this.addressAt(Number(parent.header.number) + 1) ?? this.address ?? new Uint8Array(20),
      mixHash: keccak256(parent.hash()),
      ...governed,
    }
  }

  /** Builds a round-0 block on `parent` from the pool (not committed: it waits for votes). */
  async propose(parent: ParentBlock, round = 0): Promise<BuildResult> {
    const { chain, pool } = this.#attached ?? { chain: this.#chain, pool: undefined as never }
    const parentBlock = 'writes' in parent ? parent.block : parent
    const env = this.nextBlockEnv(parentBlock)
    const certificate =
      this.#lastCommitted !== undefined && equalsBytes(parentBlock.hash(), this.#lastCommitted.hash())
        ? this.#lastCommit.certificate
        : await this.#storedCertificate(parentBlock)
    // The parent's validator-set updates ride in this block (in effect at its height + 1).
    // The first BFT block's parent (the genesis, or the terminal proof-of-work block) has neither.
    const first = parentBlock.header.number + 1n <= BigInt(this.#opts.firstHeight ?? 1)
    const validatorChanges = first ? [] : await this.#records.updatesOf(parentBlock.header)
    const extraData = encodeBftExtra({
      round,
      parentCertificate: first ? null : certificate,
      evidence: this.#evidenceRecords.forBlock(Number(parentBlock.header.number) + 1),
      validatorChanges,
    })
    const governed = await this.#hooks.governedOn(parentBlock)
    const source = await pool.blockSource(governed?.baseFeePerGas ?? parentBlock.header.calcNextBaseFee())
    await this.#records.recordCarried(Number(parentBlock.header.number) + 1, validatorChanges)
    const built = await chain.build(parent, { ...env, extraData, ...governed }, source)
    if (built.rejected.length > 0) pool.discard(built.rejected.map((r) => r.tx))
    await this.#records.keepBuilt(built)
    return built
  }

  /** Imports an executed block without executing it again (the BFT commit path uses this). */
  async commit(proposal: ExecutedBlock, finality?: Uint8Array): Promise<ImportResult> {
    const { chain, follower } = this.#attached ?? { chain: this.#chain, follower: undefined as never }
    const result = await chain.committer.commit(proposal, { senderOverrides: false, ...(finality ? { finality } : {}) })
    await follower.settled()
    return result
  }

  /** True when the driver has nothing queued or running. */
  get quiet(): boolean {
    return this.#pending === 0
  }

  /** Resolves once the driver has nothing queued (tests settle a manual clock's turn with it). */
  async idle(): Promise<void> {
    for (;;) {
      const q = this.#queue
      await q
      if (q === this.#queue) return
    }
  }

  // ---- the driver ----

  #enqueue(fn: () => Promise<void>): void {
    this.#pending++
    this.#queue = this.#queue
      .then(fn)
      .catch((err: unknown) => {
        this.#m.logger.error({ err }, 'bft driver step failed')
      })
      .finally(() => {
        this.#pending--
      })
  }

  /** Carries out `actions` and handles the events they give back, then commits kept for the new height. */
  async #run(actions: BftAction[]): Promise<void> {
    const machine = this.#machine
    if (machine === null) return
    const work = [...actions]
    for (;;) {
      while (work.length > 0) {
        const action = work.shift() as BftAction
        for (const event of await this.#act(action)) work.push(...this.#feed(machine, event))
      }
      const pending = this.#reactor.takeCommit(machine.height)
      if (pending === undefined) {
        if (this.#clock.observe(machine)) this.#reactor.pruneLatency(machine.height)
        return
      }
      work.push(...this.#feed(machine, { kind: 'certificate', certificate: pending.certificate, block: pending.block }))
    }
  }

  /** Logs `event` (unless logged already, or one the machine drops), then hands it to the machine. */
  #feed(machine: BftStateMachine, event: BftEvent): BftAction[] {
    this.#wal.log(machine, event)
    return machine.handle(event)
  }

  #handle(event: BftEvent): void {
    this.#enqueue(async () => {
      if (this.#machine === null) return
      await this.#run(this.#feed(this.#machine, event))
    })
  }

  async #act(a: BftAction): Promise<BftEvent[]> {
    // Nothing of a height an unknown upgrade blocks: no block built, validated or committed, no vote.
    if (this.#upgradeHalt?.blocks(actionHeight(a))) return []
    switch (a.kind) {
      case 'broadcastProposal':
        return this.#own.proposal(a.proposal)
      case 'broadcastVote':
        return this.#own.vote(a.vote)
      case 'scheduleTimeout': {
        const { timeout } = a
        const epoch = this.#epoch
        this.#clock.setTimeout(
          timeout,
          timeout.step === 'commit' ? (this.#blockTimeMs ?? a.delayMs) : a.delayMs,
          () => epoch === this.#epoch,
          () => this.#handle({ kind: 'timeout', timeout }),
        )
        return []
      }
      case 'buildBlock':
        return this.#build(a.height, a.round)
      case 'validateBlock': {
        const parent = await this.#parentOf(a.height, a.block)
        const valid = await this.#blocks.validate(a.height, a.blockHash, a.block, parent)
        return [{ kind: 'validity', height: a.height, blockHash: a.blockHash, valid }]
      }
      case 'commit':
        await this.#commit(a.height, a.blockHash, a.block, a.certificate)
        return []
      case 'evidence':
        if (this.evidence.add(a.evidence)) {
          // Durable before it leaves: a restart before a block carries it still proposes it.
          await this.#evidenceRecords.changed()
          this.#reactor.announceEvidence(a.evidence)
        }
        return []
    }
  }

  async #build(height: number, round: number): Promise<BftEvent[]> {
    if (this.#wal.replayedBuild(height, round)) return []
    await this.#followTerminal()
    const parent = this.#lastCommitted
    if (Number(parent.header.number) + 1 !== height) return []
    const built = await this.propose(parent, round)
    const { hash, bytes } = this.#blocks.keepBuilt(built)
    return [{ kind: 'proposalBlock', height, round, blockHash: hash, block: bytes }]
  }

  async #commit(height: number, hash: Uint8Array, bytes: Uint8Array, certificate: CommitCertificate): Promise<void> {
    const chain = this.#chain
    let executed = this.#blocks.executed(hash)
    const block = executed?.block ?? this.#blocks.decode(bytes)
    if (block === null || block === undefined) return
    this.#committing = hash
    try {
      // Final in the block's own batch (no second write on the way to `finalized`)...
      const finality = encodeCertificate(certificate)
      // A block this node did not validate (a commit it caught up with) is verified now, unless
      // stored already (sync may have imported it).
      if (executed === undefined && (await chain.getBlockNumber(hash)) === undefined) {
        executed = await this.#blocks.verifyCommitted(height, hash, bytes, block, this.#lastCommitted)
      }
      if (executed) await this.commit(executed, finality)
      // ...unless it was known already (sync may have imported it, or made it or a later block
      // final from the next block's certificate).
      if (BigInt(height) > chain.finalizedHeader.number) await chain.setFinalized(hash, finality)
    } finally {
      this.#committing = undefined
    }
    this.#lastCommitted = block
    this.#lastCommit.committed(certificate)
    if (this.#m.staking !== undefined) this.#blockTimeMs = await this.#hooks.blockTimeAfter(block.header)
    await this.#upgradeHalt?.after(block.header)
    const others = [...this.#blocks.all()].map((e) => e.block.hash()).filter((h) => !equalsBytes(h, hash))
    await this.#records.committed(chain, height, block.header, others)
    await this.#evidenceRecords.committed(block.header, height)
    this.#wal.truncateBelow(height + 1)
    this.#blocks.clear()
    this.#reactor.moveTo(height + 1)
    this.#m.logger.debug({ height, round: certificate.round, hash: bytesToHex(hash) }, 'committed')
    this.#clock.committed(
      height,
      certificate,
      decodeBftExtra(block.header.extraData, this.validators.scheme).parentCertificate,
    )
  }

  /**
   * The stored block of `header` executed again on its stored parent (the record of its updates
   * did not apply to the schedule: stale), its record replaced by what it returns now; undefined
   * when it cannot be (not stored, its parent's state gone, or it fails).
   */
  async #reexecute(header: BlockHeader): Promise<ValidatorChange[] | undefined> {
    const chain = this.#chain
    const [block, parent] = [await chain.getBlock(header.hash()), await chain.getBlock(header.parentHash)]
    if (block === undefined || parent === undefined || !chain.hasState(parent.header.stateRoot)) return undefined
    const r = await chain.verifier.verify(block, parent, { source: 'consensus' })
    if (!r.ok) return undefined
    const changes = (r.executed.endBlock?.validatorUpdates ?? []).map((u) => {
      const key = (u as { pqPublicKey?: Uint8Array | null }).pqPublicKey
      return key == null
        ? { address: u.address, votingPower: u.power }
        : { address: u.address, votingPower: u.power, pqPublicKey: key }
    })
    await this.#records.replaceUpdates(header.hash(), changes)
    this.#m.logger.warn(
      { height: Number(header.number), hash: bytesToHex(header.hash()), updates: changes.length },
      "bft: this node's record of a block's validator updates was stale; executed the block again",
    )
    return changes
  }

  /**
   * Finality from the chain alone: a new head carries its parent's certificate (checked on import),
   * which the importer stored for the parent in the head's batch (`parentFinality`), making it final
   * — whether the engine was running or not (a range sync starts before it). The machine follows.
   */
  async #finalizeParentOf(block: Block): Promise<void> {
    const chain = this.#chain
    const finalized = chain.finalizedHeader
    if (block.header.number >= 2n && block.header.number - 1n > finalized.number) {
      // Not stored with the block (a chain opened with other rules than this engine's): push it.
      const cert = decodeBftExtra(block.header.extraData, this.validators.scheme).parentCertificate
      if (cert !== null) await chain.setFinalized(block.header.parentHash, encodeCertificate(cert))
    }
    const machine = this.#machine
    if (machine !== null && chain.finalizedHeader.number >= BigInt(machine.height)) {
      await this.#followChainFinality()
    }
    await this.#records.prune(chain, Number(chain.finalizedHeader.number))
  }

  /**
   * The schedule restored from the attached chain, once (again after a stop): before the engine
   * starts and before the chain's rules judge any header, whichever comes first — a node's range
   * sync can begin before its engine starts. Unattached, the chain is still opening: nothing to do.
   */
  #scheduleReady(): Promise<void> {
    const chain = this.#attached?.chain
    if (chain === undefined) return Promise.resolve()
    if (this.#scheduleRestored === undefined) {
      const restoring = this.#records.restoreSchedule(chain)
      this.#scheduleRestored = restoring
      restoring.catch(() => {
        if (this.#scheduleRestored === restoring) this.#scheduleRestored = undefined
      })
    }
    return this.#scheduleRestored
  }

  #newMachine(height: number): BftStateMachine {
    return new BftStateMachine(
      { chainId: this.#opts.chainId, self: (h) => this.addressAt(h), height, timeouts: this.#opts.config.timeouts },
      {
        validatorSetAt: (h) => this.validators.at(h),
        verifier: this.#verifier,
        blockHash: (bytes) => this.#blocks.decode(bytes)?.hash() ?? null,
      },
    )
  }

  /**
   * The chain's finality overtook the machine (blocks imported by sync prove their parents final):
   * a fresh machine at the height after the final block. What it held of the passed heights is moot.
   */
  async #followChainFinality(): Promise<void> {
    const machine = this.#machine
    if (machine === null || this.#wal.replaying) return
    const finalized = await this.#chain.checkpoint('finalized')
    if (Number(finalized.header.number) < machine.height) return
    const height = Number(finalized.header.number) + 1
    this.#m.logger.info({ from: machine.height, to: height }, 'bft: the chain is final past the machine; jumping')
    this.#lastCommitted = finalized
    this.#lastCommit.restore(await this.#storedCertificate(finalized))
    await this.#upgradeHalt?.after(finalized.header)
    this.#blocks.clear()
    this.#reactor.moveTo(height)
    this.#wal.truncateBelow(height)
    this.#machine = this.#newMachine(height)
    await this.#run(this.#machine.start())
  }

  /** Whether the machine is at the first BFT height of a chain that ran another engine before. */
  #atFirstHeight(height: number): boolean {
    const first = this.#opts.firstHeight ?? 1
    return first > 1 && height === first && Number(this.#lastCommitted.header.number) === first - 1
  }

  /**
   * At the first height, the terminal block the chain holds now: the earlier era's fork choice may
   * have moved to another block at H − 1 (a heavier one, come after the hand-over) since the
   * machine started, and a proposal builds on the chain's.
   */
  async #followTerminal(): Promise<void> {
    if (!this.#atFirstHeight(Number(this.#lastCommitted.header.number) + 1)) return
    const canonical = await this.#chain.getBlockByNumber(this.#lastCommitted.header.number)
    if (canonical !== undefined && !equalsBytes(canonical.hash(), this.#lastCommitted.hash())) {
      this.#m.logger.info(
        { from: bytesToHex(this.#lastCommitted.hash()), to: bytesToHex(canonical.hash()) },
        'bft: the terminal block moved; the first height builds on the new one',
      )
      this.#lastCommitted = canonical
    }
  }

  /**
   * The parent a proposal of `height` is validated on: the last committed block, or at the first
   * height another stored terminal block the earlier era's fork choice does not rank below this
   * node's (`terminalAccepts`): validators that hold different blocks at H − 1 then still agree on
   * one proposal, which its commit makes the chain's (the race for the terminal block).
   */
  async #parentOf(height: number, bytes: Uint8Array): Promise<Block> {
    const own = this.#lastCommitted
    const accepts = this.#m.terminalAccepts
    if (accepts === undefined || !this.#atFirstHeight(height)) return own
    const block = this.#blocks.decode(bytes)
    if (block === null || block === undefined || equalsBytes(block.header.parentHash, own.hash())) return own
    const parent = await this.#chain.getBlock(block.header.parentHash)
    if (parent === undefined || parent.header.number !== own.header.number) return own
    return (await accepts(parent.header, own.header)) ? parent : own
  }

  /**
   * The block the machine builds on: the last final one, or below the first BFT height (a chain
   * that ran proof of work before) the canonical block just below it, the terminal one.
   */
  async #lastFinal(chain: EngineChain): Promise<Block> {
    const finalized = await chain.checkpoint('finalized')
    const terminal = BigInt((this.#opts.firstHeight ?? 1) - 1)
    if (finalized.header.number >= terminal) return finalized
    const block = await chain.getBlockByNumber(terminal)
    if (block === undefined) {
      throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, `the bft engine starts on block ${terminal}, not stored`, {
        hint: 'start the engine once the chain holds the block below its first height',
      })
    }
    return block
  }

  async #storedCertificate(block: Block): Promise<CommitCertificate | null> {
    if (block.header.number === 0n) return null
    const bytes = await this.#chain.getFinality(block.hash())
    if (bytes === undefined || bytes.length === 0) return null
    return decodeCertificate(bytes, this.validators.scheme)
  }
}

/** The height an action is about (evidence: none, never blocked). */
function actionHeight(a: BftAction): number {
  switch (a.kind) {
    case 'broadcastProposal':
      return a.proposal.height
    case 'broadcastVote':
      return a.vote.height
    case 'scheduleTimeout':
      return a.timeout.height
    case 'evidence':
      return -1
    default:
      return a.height
  }
}
